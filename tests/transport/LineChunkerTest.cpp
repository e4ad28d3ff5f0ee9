#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "transport/LineChunker.hpp"

using namespace flowlier::transport;

namespace {
bool header_test(std::string_view line) { return line.starts_with("version "); }
}  // namespace

TEST_CASE("LineChunker keeps a partial line until its newline and repeats the header in every chunk") {
  std::vector<std::string> chunks;
  const auto emit = [&](std::string&& c) { chunks.push_back(std::move(c)); };
  LineChunker chunker(24, header_test);
  chunker.feed("version a b\n1 2\n3 ", emit);
  CHECK(chunks.empty());  // nothing reached the bound yet
  chunker.flush(emit);
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0] == "version a b\n1 2\n");  // "3 " waits for its newline
  chunker.feed("4\n5 6\n7 8\n", emit);
  // header (12) + "3 4\n5 6\n7 8\n" (12) = 24: the bound emits it.
  REQUIRE(chunks.size() == 2);
  CHECK(chunks[1] == "version a b\n3 4\n5 6\n7 8\n");
  chunker.feed("9", emit);
  chunker.finish(emit);  // end of stream: the partial line counts
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[2] == "version a b\n9\n");
  CHECK(chunker.header() == "version a b\n");
}

TEST_CASE("LineChunker without a header line, CRLF lines and reset") {
  std::vector<std::string> chunks;
  const auto emit = [&](std::string&& c) { chunks.push_back(std::move(c)); };
  LineChunker chunker(1 << 20, header_test);
  chunker.feed("2 x y\r\nversion a\n", emit);  // a header only counts as the first line
  chunker.flush(emit);
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0] == "2 x y\nversion a\n");
  CHECK(chunker.header().empty());
  chunker.feed("partial", emit);
  chunker.reset();  // rotated: the partial line and header state are gone
  chunker.feed("version b\nz\n", emit);
  chunker.flush(emit);
  REQUIRE(chunks.size() == 2);
  CHECK(chunks[1] == "version b\nz\n");
  chunker.flush(emit);
  CHECK(chunks.size() == 2);  // nothing pending: nothing emitted
}

TEST_CASE("LineChunker gives a line longer than the bound a chunk of its own") {
  std::vector<std::string> chunks;
  const auto emit = [&](std::string&& c) { chunks.push_back(std::move(c)); };
  LineChunker chunker(8, nullptr);
  chunker.feed("ab\n0123456789\ncd\n", emit);
  chunker.finish(emit);
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[0] == "ab\n");
  CHECK(chunks[1] == "0123456789\n");
  CHECK(chunks[2] == "cd\n");
}
