#include "delivery/sender.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>
#include <stdexcept>

namespace argus::delivery {

namespace {

/// libcurl's global state must be set up once, before any other thread
/// uses it.
void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

/// The receiver's answer body is not used; keep at most this much of it
/// (for nothing) so a huge answer cannot grow memory.
size_t discard_body(char*, size_t size, size_t n, void*) {
  return size * n;
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size())
    return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

domain::time_point wall_now() {
  return domain::time_point{std::chrono::duration_cast<domain::duration>(
      std::chrono::system_clock::now().time_since_epoch())};
}

} // namespace

/// One request on its way: what libcurl reads from and writes to.
struct sender::transfer {
  request req;
  curl_slist* headers = nullptr;
  std::string retry_after;
  char error[CURL_ERROR_SIZE] = {0};

  ~transfer() { curl_slist_free_all(headers); }

  static size_t on_header(char* data, size_t size, size_t n, void* self) {
    std::string_view line{data, size * n};
    if (starts_with_nocase(line, "retry-after:")) {
      line.remove_prefix(12);
      while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
        line.remove_suffix(1);
      static_cast<transfer*>(self)->retry_after = std::string{line};
    }
    return size * n;
  }
};

struct sender::curl_state {
  CURLM* multi = nullptr;
  ~curl_state() {
    if (multi != nullptr)
      curl_multi_cleanup(multi);
  }
};

sender::sender(limits lim, callback done)
    : limits_(lim), done_(std::move(done)), curl_(new curl_state) {
  global_init();
  curl_->multi = curl_multi_init();
  if (curl_->multi == nullptr)
    throw std::runtime_error("libcurl: cannot create a multi handle");
  limits_.total = std::max<size_t>(1, limits_.total);
  limits_.per_receiver = std::max<size_t>(1, limits_.per_receiver);
  thread_ = std::thread{[this] { run(); }};
}

sender::~sender() {
  stop();
}

void sender::stop() {
  if (stopping_.exchange(true))
    return;
  curl_multi_wakeup(curl_->multi);
  if (thread_.joinable())
    thread_.join();
}

void sender::submit(request r) {
  outstanding_.fetch_add(1);
  {
    std::lock_guard<std::mutex> guard{mtx_};
    incoming_.push_back(std::move(r));
  }
  curl_multi_wakeup(curl_->multi);
}

size_t sender::outstanding() const {
  return outstanding_.load();
}

void sender::run() {
  while (!stopping_.load()) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      while (!incoming_.empty()) {
        waiting_.push_back(std::move(incoming_.front()));
        incoming_.pop_front();
      }
    }
    start_waiting();
    int running = 0;
    curl_multi_perform(curl_->multi, &running);
    int left = 0;
    bool freed = false;
    while (auto* msg = curl_multi_info_read(curl_->multi, &left)) {
      if (msg->msg == CURLMSG_DONE) {
        finished(msg->easy_handle, msg->data.result);
        freed = true;
      }
    }
    // A finished request freed a slot that a waiting one can take now.
    if (freed && !waiting_.empty())
      continue;
    curl_multi_poll(curl_->multi, nullptr, 0, 1000, nullptr);
  }
  abandon_all();
}

void sender::start_waiting() {
  for (auto it = waiting_.begin();
       it != waiting_.end() && in_flight_ < limits_.total;) {
    auto& slots = per_receiver_[it->receiver];
    if (slots >= limits_.per_receiver) {
      ++it;
      continue;
    }
    ++slots;
    ++in_flight_;
    auto r = std::move(*it);
    it = waiting_.erase(it);
    start(std::move(r));
  }
}

void sender::start(request r) {
  auto* t = new transfer;
  t->req = std::move(r);
  for (auto& [name, value] : t->req.headers)
    t->headers = curl_slist_append(t->headers, (name + ": " + value).c_str());
  // No "Expect: 100-continue" round trip before larger bodies.
  t->headers = curl_slist_append(t->headers, "Expect:");
  CURL* easy = curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, t->req.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, t->req.body.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(t->req.body.size()));
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(t->req.timeout_ms));
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "Argus");
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard_body);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &transfer::on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
  curl_multi_add_handle(curl_->multi, easy);
  active_.insert(easy);
}

void sender::finished(void* handle, int code) {
  auto* easy = static_cast<CURL*>(handle);
  transfer* t = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
  std::unique_ptr<transfer> owned{t};
  domain::attempt_result out;
  auto result = static_cast<CURLcode>(code);
  if (result == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    out.status = static_cast<int>(status);
    if (!t->retry_after.empty())
      out.retry_after = domain::parse_retry_after(t->retry_after, wall_now());
  } else {
    out.timed_out = result == CURLE_OPERATION_TIMEDOUT;
    out.error = t->error[0] != '\0' ? std::string{t->error}
                                    : std::string{curl_easy_strerror(result)};
  }
  curl_multi_remove_handle(curl_->multi, easy);
  curl_easy_cleanup(easy);
  active_.erase(easy);
  auto& slots = per_receiver_[t->req.receiver];
  --slots;
  if (slots == 0)
    per_receiver_.erase(t->req.receiver);
  --in_flight_;
  outstanding_.fetch_sub(1);
  done_(t->req.token, std::move(out));
}

void sender::abandon_all() {
  domain::attempt_result stopped;
  stopped.error = "sender stopped";
  for (auto* handle : active_) {
    auto* easy = static_cast<CURL*>(handle);
    transfer* t = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
    std::unique_ptr<transfer> owned{t};
    curl_multi_remove_handle(curl_->multi, easy);
    curl_easy_cleanup(easy);
    done_(t->req.token, stopped);
  }
  active_.clear();
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto* queue : {&waiting_, &incoming_})
    for (auto& r : *queue)
      done_(r.token, stopped);
  waiting_.clear();
  incoming_.clear();
}

} // namespace argus::delivery
