// flags: -std=c++17
// expect: sentinel needs C++20
#include <sentinel/headers.hpp>
