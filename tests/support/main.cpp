// Catch2's main, compiled once for every test binary (it costs ~12 s).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
