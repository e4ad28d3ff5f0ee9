// "Did you mean ...?" for command-line flags and config keys.
#include <catch2/catch.hpp>

#include "core/NearestName.hpp"

using namespace flowlier::core;

TEST_CASE("NearestName: a likely typo, or nothing") {
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(nearest_name("--tabel", {"--table", "--quiet", "--out"}) == "--table");
  CHECK(nearest_name("--frmat", {"--format", "--rejects"}) == "--format");
  CHECK(nearest_name("--zzzzzz", {"--table", "--out"}).empty());
  CHECK(nearest_name("curve_secret", {"curve_peer_file", "curve_secret_key_file"}) == "curve_secret_key_file");
}
