#include "util/log.hpp"

#include <doctest/doctest.h>

using vtc::util::log::use_colour;

TEST_CASE(
  "logs are coloured on a terminal unless NO_COLOR is set and non-empty")
{
  CHECK(use_colour(true, nullptr));
  CHECK(use_colour(true, ""));
  CHECK_FALSE(use_colour(true, "1"));
  CHECK_FALSE(use_colour(true, "0")); // any non-empty value disables colour
  CHECK_FALSE(use_colour(false, nullptr));
  CHECK_FALSE(use_colour(false, ""));
}
