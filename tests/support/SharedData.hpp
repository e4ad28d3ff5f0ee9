#pragma once
// Tests built on the shared sample data (../shared/data, or a file of the checkout)
// fail when it is missing: a test that skips silently would pass without testing.
#include <catch2/catch.hpp>
#include <filesystem>

#define REQUIRE_SAMPLE(file)                                                                        \
  do {                                                                                              \
    INFO("this test needs " << std::filesystem::path(file).string()                                 \
                            << " (sample data: ../shared/data beside the checkout, or examples/): " \
                            << "it is missing, so the test fails rather than pass untested");       \
    REQUIRE(std::filesystem::exists(file));                                                         \
  } while (false)
