// The one translation unit with Catch2's main (Catch2 v2 ships no catch2-with-main).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
