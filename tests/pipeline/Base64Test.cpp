#include <catch2/catch.hpp>
#include <string>

#include "pipeline/formats/Base64.hpp"

using namespace flowlier::pipeline::formats;

TEST_CASE("base64 RFC 4648 test vectors", "[base64]") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    INFO(plain);
    CHECK(base64_encode(plain) == encoded);
    std::string out = "stale";
    CHECK(base64_decode(encoded, out).empty());
    CHECK(out == plain);
  }
}

TEST_CASE("base64 accepts missing padding and round-trips all byte values", "[base64]") {
  std::string out;
  CHECK(base64_decode("Zg", out).empty());
  CHECK(out == "f");
  CHECK(base64_decode("Zm8", out).empty());
  CHECK(out == "fo");
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n < 8; ++n) {
    const std::string slice = bytes.substr(n * 7, 100 + n);
    CHECK(base64_decode(base64_encode(slice), out).empty());
    CHECK(out == slice);
  }
  CHECK(base64_decode(base64_encode(bytes), out).empty());
  CHECK(out == bytes);
}

TEST_CASE("base64 rejects bad characters, bad padding and impossible lengths", "[base64][errors]") {
  std::string out;
  CHECK(base64_decode("Zm9v!mFy", out) == "invalid base64 character at offset 4");
  CHECK(out.empty());
  CHECK_FALSE(base64_decode("Zm9v YmFy", out).empty());  // whitespace is not in the alphabet
  CHECK_FALSE(base64_decode("Zm9vY", out).empty());      // 5 characters: not whole bytes
  CHECK_FALSE(base64_decode("Zg=", out).empty());        // padding that does not end a group
  CHECK_FALSE(base64_decode("Zg===", out).empty());
  CHECK_FALSE(base64_decode("Z===", out).empty());
  CHECK_FALSE(base64_decode("Zg==Zg==", out).empty());  // padding in the middle
  CHECK_FALSE(base64_decode("-_-_", out).empty());      // URL-safe alphabet is not standard
}
