// expect: SENTINEL_OWNER_CHECKS differs from the installed library's owner checks
// A user build asking for the opposite of what this library was built with (the macro expands where
// config.hpp compares it, after SENTINEL_LIBRARY_OWNER_CHECKS is defined) is stopped, not ignored.
#define SENTINEL_OWNER_CHECKS (1 - SENTINEL_LIBRARY_OWNER_CHECKS)
#include <sentinel/headers.hpp>
