#include <unistd.h>

#include <catch2/catch.hpp>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <vector>
#include <string>
#include <thread>

#include "tests/support/TempDir.hpp"
#include "transport/FileFollower.hpp"

using namespace flowlier::transport;
namespace fs = std::filesystem;

namespace {
struct TempDir : flowlier::testing::TempDir {
  TempDir() : flowlier::testing::TempDir("flowlier-follow") {}
};

void append(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::app | std::ios::binary);
  out << text;
}

FileFollower::Options options() {
  FileFollower::Options o;
  o.is_header = [](std::string_view line) { return line.starts_with("version "); };
  o.gzip_settle = std::chrono::milliseconds(0);
  return o;
}
}  // namespace

TEST_CASE("FileFollower reads appends, waits for partial lines, follows rotation and truncation") {
  TempDir dir;
  const fs::path log = dir.path / "flows.log";
  FileFollower follower({log.string()}, options());
  std::string got;
  const auto emit = [&](std::string&& c) { got += "[" + c + "]"; };
  follower.poll(emit);  // not there yet: nothing, no error
  CHECK(got.empty());
  append(log, "version a\n1\n2");
  follower.poll(emit);
  CHECK(got == "[version a\n1\n]");
  got.clear();
  append(log, "2\n3\n");
  follower.poll(emit);
  CHECK(got == "[version a\n22\n3\n]");  // the header is repeated; the split line is whole
  got.clear();
  // Rotation: the old file's unread tail (without a newline) is read, then the new file.
  append(log, "4");
  fs::rename(log, dir.path / "flows.log.1");
  append(log, "version b\n5\n");
  follower.poll(emit);
  CHECK(got == "[version a\n4\n][version b\n5\n]");
  CHECK(follower.counters().rotations == 1);
  got.clear();
  // Truncation: read again from the start.
  fs::resize_file(log, 0);
  follower.poll(emit);
  append(log, "6\n");
  follower.poll(emit);
  CHECK(got == "[6\n]");
  CHECK(follower.counters().truncations == 1);
  got.clear();
  follower.poll(emit);
  CHECK(got.empty());  // nothing new: nothing read twice
}

TEST_CASE("FileFollower in a directory: new files, renames not re-read, gzip read whole once") {
  TempDir dir;
  FileFollower follower({dir.path.string()}, options());
  std::string got;
  const auto emit = [&](std::string&& c) { got += "[" + c + "]"; };
  append(dir.path / "a.log", "1\n");
  append(dir.path / ".hidden", "x\n");
  follower.poll(emit);
  CHECK(got == "[1\n]");
  got.clear();
  fs::rename(dir.path / "a.log", dir.path / "a.log.1");
  append(dir.path / "a.log", "2\n");
  follower.poll(emit);
  follower.poll(emit);
  CHECK(got == "[2\n]");  // a.log.1 holds the inode already read
  got.clear();
  const std::string gz = (dir.path / "b.log.gz").string();
  gzFile out = ::gzopen(gz.c_str(), "wb");
  ::gzputs(out, "version z\n7\n8\n");
  ::gzclose(out);
  follower.poll(emit);  // first sight: size noted
  CHECK(got.empty());
  follower.poll(emit);  // stable: read whole
  CHECK(got == "[version z\n7\n8\n]");
  follower.poll(emit);
  CHECK(got == "[version z\n7\n8\n]");
  CHECK(follower.counters().gzip_files == 1);
  CHECK(follower.counters().errors == 0);
}

TEST_CASE("FileFollower checkpoints: a restart resumes each file where its lines were emitted, header kept") {
  TempDir dir;
  const auto log = dir.path / "vpc.log";
  append(log, "version a b\n1 x\n2 x\n3 part");
  std::vector<std::string> first;
  std::string saved;
  {
    FileFollower f({log.string()}, options());
    f.poll([&](std::string&& chunk) { first.push_back(chunk); });
    saved = f.checkpoints();
  }
  REQUIRE(first == std::vector<std::string>{"version a b\n1 x\n2 x\n"});
  REQUIRE_FALSE(saved.empty());
  append(log, "ial\n4 x\n");
  // A new follower (a restarted service) with the saved positions: only what is new,
  // with the file's header in front; the partial line counts once it is whole.
  std::vector<std::string> second;
  FileFollower f({log.string()}, options());
  REQUIRE(f.restore_checkpoints(saved));
  f.poll([&](std::string&& chunk) { second.push_back(chunk); });
  CHECK(second == std::vector<std::string>{"version a b\n3 partial\n4 x\n"});

  // Without checkpoints, or with a file that changed under the same name, everything
  // is read again: a replaced file (another inode) and a rewritten one (other first bytes).
  std::vector<std::string> again;
  FileFollower fresh({log.string()}, options());
  REQUIRE(fresh.restore_checkpoints(""));
  fresh.poll([&](std::string&& chunk) { again.push_back(chunk); });
  CHECK(again.size() == 1);
  CHECK(again.front().starts_with("version a b\n1 x\n"));
  const std::string before_rewrite = f.checkpoints();
  // Rewritten in place (same inode, longer than the saved offset, other first bytes).
  const std::string rewrite = "version a b\n9 y\n9 y\n9 y\n9 y\n9 y\n9 y\n9 y\n9 y\n9 y\n9 y\n";
  std::ofstream(log, std::ios::trunc | std::ios::binary) << rewrite;
  std::vector<std::string> rewritten;
  FileFollower after({log.string()}, options());
  REQUIRE(after.restore_checkpoints(before_rewrite));
  after.poll([&](std::string&& chunk) { rewritten.push_back(chunk); });
  CHECK(rewritten == std::vector<std::string>{rewrite});
  CHECK_FALSE(after.restore_checkpoints("not a checkpoint\n"));
}

TEST_CASE("FileFollower in a tree: nested files read oldest first, dot-directories skipped, bounds counted") {
  TempDir dir;
  // Name order (nsg-a before nsg-b, h=00 before h=01) is not the order start_time gives.
  const auto blob = [&](const std::string& rel) { return (dir.path / rel).string(); };
  const std::map<std::string, std::int64_t> starts{
      {blob("nsg-a/h=01/mac-1/PT1H.json"), 3600}, {blob("nsg-a/h=00/mac-1/PT1H.json"), 0},
      {blob("nsg-b/h=00/mac-2/PT1H.json"), 0}, {blob("nsg-b/h=01/mac-2/PT1H.json"), 3600}};
  for (const auto& [path, start] : starts) {
    fs::create_directories(fs::path(path).parent_path());
    append(path, "t" + std::to_string(start) + " " + fs::path(path).parent_path().filename().string() + "\n");
  }
  fs::create_directories(dir.path / ".staging/h=02");
  append(dir.path / ".staging/h=02/PT1H.json", "hidden\n");
  auto o = options();
  std::vector<std::string> asked;
  o.start_time = [&](const std::string& path) -> std::optional<std::int64_t> {
    asked.push_back(path);
    const auto it = starts.find(path);
    return it == starts.end() ? std::nullopt : std::optional<std::int64_t>(it->second);
  };
  FileFollower follower({dir.path.string()}, o);
  std::vector<std::pair<std::uint64_t, std::string>> got;
  const FileFollower::SourceEmit emit = [&](std::uint64_t source, std::string&& chunk) {
    got.emplace_back(source, chunk);
  };
  follower.poll(emit);
  // Oldest first; the same start: by file name, then path (replay's order).
  using Got = std::vector<std::pair<std::uint64_t, std::string>>;
  CHECK(got == Got{{1, "t0 mac-1\n"}, {2, "t0 mac-2\n"}, {3, "t3600 mac-1\n"}, {4, "t3600 mac-2\n"}});
  CHECK(asked.size() == 4);  // once per file, never for what is skipped
  CHECK(follower.behind().empty());
  CHECK(follower.counters().tree_skipped == 0);

  // A new nested directory appears (the dot-directory renamed into the tree), and
  // one followed file grows: the new file gets the next source number (and, with no
  // start time, is read first).
  got.clear();
  fs::rename(dir.path / ".staging", dir.path / "nsg-c");
  append(blob("nsg-a/h=01/mac-1/PT1H.json"), "more\n");
  follower.poll(emit);
  CHECK(got == Got{{5, "hidden\n"}, {3, "more\n"}});
  CHECK(asked.size() == 5);

  // Bounds: a file deeper than max_depth and files beyond max_files are left out, counted.
  fs::create_directories(dir.path / "a/b/c/d");
  append(dir.path / "a/b/c/d/deep.log", "deep\n");
  auto bounded = options();
  bounded.max_depth = 3;  // nsg-a/h=01/mac-1 is three levels down
  bounded.max_files = 3;
  fs::create_directory_symlink(dir.path, dir.path / "nsg-a/loop");  // listed once, not 2^depth times
  fs::create_directory_symlink(dir.path, dir.path / "nsg-b/loop");
  FileFollower small({dir.path.string()}, bounded);
  std::size_t chunks = 0;
  small.poll([&](std::string&&) { ++chunks; });
  CHECK(chunks == 3);
  CHECK(small.counters().tree_skipped == 3);  // a/b/c/d, and two of the five blobs
}

TEST_CASE("FileFollower reports what a poll did not read to its end: its byte budget, a .gz not yet settled") {
  TempDir dir;
  fs::create_directories(dir.path / "x");
  append(dir.path / "x/a.log", std::string(3000, 'a') + "\n");
  append(dir.path / "x/b.log", std::string(3000, 'b') + "\n");
  const std::string gz = (dir.path / "x/c.log.gz").string();
  gzFile out = ::gzopen(gz.c_str(), "wb");
  ::gzputs(out, "version z\n7\n");
  ::gzclose(out);
  auto o = options();
  o.gzip_settle = std::chrono::hours(1);
  o.max_bytes_per_poll = 2000;
  o.start_time = [](const std::string& path) -> std::optional<std::int64_t> {
    return path.ends_with("a.log") ? 10 : path.ends_with("b.log") ? 20 : 30;
  };
  FileFollower follower({dir.path.string()}, o);
  std::string got;
  follower.poll([&](std::string&& c) { got += c; });
  CHECK(got == std::string(3000, 'a') + "\n");  // then the budget is spent: b.log waits
  std::vector<std::pair<std::uint64_t, std::int64_t>> behind;
  for (const auto& b : follower.behind()) behind.emplace_back(b.source, b.start);
  CHECK(behind == std::vector<std::pair<std::uint64_t, std::int64_t>>{{2, 20}, {3, 30}});
  for (int i = 0; i < 4; ++i) follower.poll([&](std::string&& c) { got += c; });
  CHECK(got == std::string(3000, 'a') + "\n" + std::string(3000, 'b') + "\n");
  CHECK(follower.behind().size() == 1);  // the .gz, waiting to settle
}

TEST_CASE("FileFollower checkpoints in a tree: nested files resume where they were read, new ones read whole") {
  TempDir dir;
  fs::create_directories(dir.path / "acct/region-1/2026/03/02");
  fs::create_directories(dir.path / "acct/region-2/2026/03/02");
  const auto a = dir.path / "acct/region-1/2026/03/02/a.log";
  const auto b = dir.path / "acct/region-2/2026/03/02/b.log";
  append(a, "version a\n1 a\n");
  append(b, "version b\n1 b\n2 b\n");
  std::string saved;
  {
    FileFollower f({dir.path.string()}, options());
    std::size_t chunks = 0;
    f.poll([&](std::string&&) { ++chunks; });
    CHECK(chunks == 2);
    saved = f.checkpoints();
  }
  append(a, "2 a\n");
  fs::create_directories(dir.path / "acct/region-3/2026/03/03");
  append(dir.path / "acct/region-3/2026/03/03/c.log", "version c\n1 c\n");
  FileFollower f({dir.path.string()}, options());
  REQUIRE(f.restore_checkpoints(saved));
  std::vector<std::string> got;
  f.poll([&](std::string&& chunk) { got.push_back(chunk); });
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<std::string>{"version a\n2 a\n", "version c\n1 c\n"});
  // What it saves now reads back, and a third start reads nothing again.
  FileFollower third({dir.path.string()}, options());
  REQUIRE(third.restore_checkpoints(f.checkpoints()));
  std::size_t again = 0;
  third.poll([&](std::string&&) { ++again; });
  CHECK(again == 0);
}

namespace {
std::size_t open_descriptors() {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{}));
}
}  // namespace

TEST_CASE("FileFollower closes idle files of a tree and reopens them where they stopped") {
  TempDir dir;
  for (int i = 0; i < 20; ++i) {
    fs::create_directories(dir.path / ("h=" + std::to_string(i)));
    append(dir.path / ("h=" + std::to_string(i)) / "PT1H.log", "version v\n" + std::to_string(i) + "\n");
  }
  auto o = options();
  o.park_after_idle = std::chrono::milliseconds(0);  // closed at the first poll that finds it unchanged
  FileFollower follower({dir.path.string()}, o);
  std::vector<std::string> got;
  const auto emit = [&](std::string&& c) { got.push_back(c); };
  const std::size_t before = open_descriptors();
  follower.poll(emit);
  CHECK(got.size() == 20);
  CHECK(open_descriptors() >= before + 20);
  follower.poll(emit);  // unchanged: closed
  CHECK(open_descriptors() == before);
  const std::string parked = follower.checkpoints();

  // One grows: read on from where it stopped, its header in front; one is replaced by a
  // new, longer file (which may even get the old inode): read from its start.
  got.clear();
  append(dir.path / "h=3/PT1H.log", "33\n");
  fs::remove(dir.path / "h=4/PT1H.log");
  append(dir.path / "h=4/PT1H.log", "version w\n44\n");
  follower.poll(emit);
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<std::string>{"version v\n33\n", "version w\n44\n"});
  CHECK(follower.counters().errors == 0);

  // The positions of closed files are saved like the others: a restart reads nothing again.
  FileFollower restarted({dir.path.string()}, o);
  REQUIRE(restarted.restore_checkpoints(parked));
  got.clear();
  restarted.poll(emit);
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<std::string>{"version v\n33\n", "version w\n44\n"});
}
