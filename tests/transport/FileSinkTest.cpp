// The file sink (transport/FileSink): rotation keeps every event in order across files,
// failures are counted and named, the books balance. (Write-through and torn lines:
// DeliveryServiceTest.cpp.)
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "tests/transport/TestEvents.hpp"
#include "transport/FileSink.hpp"

using namespace flowlier::transport;
using flowlier::transport::test::make_event;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {
struct Dir {
  fs::path path;
  explicit Dir(const char* name) : path(fs::temp_directory_path() / fmt::format("flowlier-{}-{}", name, ::getpid())) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Dir() { fs::remove_all(path); }
};

std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

SinkConfig file_config(const fs::path& path, std::uint64_t max_bytes, std::uint32_t max_files) {
  SinkConfig c;
  c.type = SinkType::file;
  c.id = "file";
  c.path = path.string();
  c.max_bytes = max_bytes;
  c.max_files = max_files;
  return c;
}
}  // namespace

TEST_CASE("rotation shifts path.1 .. path.N and keeps the newest events in order", "[sinks][file]") {
  Dir dir("file-rotate");
  const auto path = dir.path / "events.jsonl";
  const std::size_t line = make_event(0).json.size() + 1;
  std::string error;
  FileSink sink(file_config(path, 3 * line, 3), error);  // three events per file, three old files
  REQUIRE(error.empty());
  for (int i = 0; i < 20; ++i) sink.push(make_event(i));
  REQUIRE(sink.flush(1s));
  CHECK_FALSE(fs::exists(path.string() + ".4"));
  // Oldest first: .3, .2, .1, then the live file; each file whole lines, each at most max_bytes.
  std::vector<std::string> kept;
  for (const auto& p : {path.string() + ".3", path.string() + ".2", path.string() + ".1", path.string()}) {
    REQUIRE(fs::exists(p));
    CHECK(fs::file_size(p) <= 3 * line);
    for (auto& l : lines_of(p)) kept.push_back(std::move(l));
  }
  // 20 events, 3 per file: 18..19 live, and the three rotated files before them.
  std::vector<std::string> expected;
  for (int i = 20 - static_cast<int>(kept.size()); i < 20; ++i) expected.push_back(make_event(i).json);
  CHECK(kept.size() == 11);
  CHECK(kept == expected);
  const auto c = sink.counters();
  CHECK(c.received == 20);
  CHECK(c.delivered == 20);
  CHECK(c.dropped == 0);
}

TEST_CASE("with max_files = 0 a full file starts over", "[sinks][file]") {
  Dir dir("file-nokeep");
  const auto path = dir.path / "events.jsonl";
  const std::size_t line = make_event(0).json.size() + 1;
  std::string error;
  FileSink sink(file_config(path, 2 * line, 0), error);
  REQUIRE(error.empty());
  for (int i = 0; i < 5; ++i) sink.push(make_event(i));
  CHECK_FALSE(fs::exists(path.string() + ".1"));
  CHECK(lines_of(path) == std::vector<std::string>{make_event(4).json});
}

TEST_CASE("a reopened file sink appends and rotates by the size already there", "[sinks][file]") {
  Dir dir("file-reopen");
  const auto path = dir.path / "events.jsonl";
  const std::size_t line = make_event(0).json.size() + 1;
  std::string error;
  { FileSink(file_config(path, 3 * line, 2), error).push(make_event(1)); }
  {
    FileSink again(file_config(path, 3 * line, 2), error);
    REQUIRE(error.empty());
    again.push(make_event(2));
    again.push(make_event(3));
    CHECK_FALSE(fs::exists(path.string() + ".1"));
    again.push(make_event(4));  // the fourth line would pass max_bytes
  }
  CHECK(lines_of(path.string() + ".1") ==
        std::vector<std::string>{make_event(1).json, make_event(2).json, make_event(3).json});
  CHECK(lines_of(path) == std::vector<std::string>{make_event(4).json});
}

TEST_CASE("a file that cannot be opened is an error naming it; a failing write is counted", "[sinks][file]") {
  Dir dir("file-errors");
  std::string error;
  FileSink missing(file_config(dir.path / "no" / "such" / "dir" / "events.jsonl", 1 << 20, 1), error);
  CHECK(error.find("no/such/dir/events.jsonl") != std::string::npos);
  CHECK(error.find("cannot open") != std::string::npos);
  missing.push(make_event(1));
  CHECK(missing.counters().dropped == 1);
  CHECK(missing.counters().delivered == 0);

  if (!fs::exists("/dev/full")) return;
  error.clear();
  SinkConfig full = file_config("/dev/full", 1 << 20, 0);
  FileSink disk_full(full, error);
  REQUIRE(error.empty());
  disk_full.push(make_event(1));
  disk_full.push(make_event(2, false, SinkSeverity::info));
  const auto c = disk_full.counters();
  CHECK(c.received == 2);
  CHECK(c.dropped == 2);  // info passes the default min_severity too
  CHECK(c.delivered == 0);
  CHECK(c.last_error.find("/dev/full") != std::string::npos);
}
