#include <unistd.h>

#include <catch2/catch.hpp>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "transport/FileFollower.hpp"

using namespace flowlier::transport;
namespace fs = std::filesystem;

namespace {
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("flowlier-follow-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
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
