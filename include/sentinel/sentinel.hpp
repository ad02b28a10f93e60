// sentinel: the umbrella header. Includes the public headers and nothing else.
#pragma once

#include <sentinel/client_pool.hpp>
#include <sentinel/config.hpp>
#include <sentinel/error.hpp>
#include <sentinel/headers.hpp>
#include <sentinel/http_client.hpp>
#include <sentinel/options.hpp>
#include <sentinel/request.hpp>
#include <sentinel/request_error.hpp>
#include <sentinel/response.hpp>
#include <sentinel/stats.hpp>
#include <sentinel/url.hpp>
#include <sentinel/worker.hpp>
