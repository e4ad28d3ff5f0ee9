#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "tests/transport/TestEvents.hpp"
#include "transport/DeliveryService.hpp"
#include "transport/DiskSpool.hpp"

using namespace flowlier::transport;
namespace fs = std::filesystem;

namespace {
std::string temp_dir(const char* name) {
  auto dir = fs::temp_directory_path() / fmt::format("flowlier-{}-{}", name, ::getpid());
  fs::remove_all(dir);
  return dir.string();
}
}  // namespace

TEST_CASE("spool: FIFO, commit removes, restart resumes at the committed record", "[spool]") {
  const auto dir = temp_dir("spool-fifo");
  std::string error;
  {
    auto spool = DiskSpool::open(dir, 1 << 20, error, 64);  // tiny segments: exercise rollover
    REQUIRE(spool);
    for (int i = 0; i < 10; ++i) REQUIRE(spool->append(fmt::format("record-{}", i)) == DiskSpool::Append::ok);
    CHECK(spool->pending() == 10);
    CHECK(spool->pending_bytes() == 10 * 9);
    auto head = spool->peek(3, 1 << 20);
    CHECK(head == std::vector<std::string>{"record-0", "record-1", "record-2"});
    CHECK(spool->commit(3));
    CHECK(spool->peek(1, 1 << 20) == std::vector<std::string>{"record-3"});
    CHECK(spool->peek(100, 20).size() == 2);  // stops before the byte limit
  }  // "crash": nothing more is written
  auto spool = DiskSpool::open(dir, 1 << 20, error, 64);
  REQUIRE(spool);
  CHECK(spool->pending() == 7);
  CHECK(spool->peek(1, 100) == std::vector<std::string>{"record-3"});
  CHECK(spool->commit(7));
  CHECK(spool->pending() == 0);
  CHECK(spool->pending_bytes() == 0);
  REQUIRE(spool->append("after") == DiskSpool::Append::ok);
  CHECK(spool->peek(5, 100) == std::vector<std::string>{"after"});
  // Finished segments are deleted.
  int segments = 0;
  for (const auto& entry : fs::directory_iterator(dir)) segments += entry.path().extension() == ".log";
  CHECK(segments <= 2);
  fs::remove_all(dir);
}

TEST_CASE("spool: a torn last record (crash mid-append) is cut", "[spool]") {
  const auto dir = temp_dir("spool-torn");
  std::string error;
  {
    auto spool = DiskSpool::open(dir, 1 << 20, error);
    REQUIRE(spool);
    REQUIRE(spool->append("whole") == DiskSpool::Append::ok);
  }
  {
    std::ofstream tail(dir + "/seg-000000000000.log", std::ios::app);
    tail << "half-writ";
  }
  auto spool = DiskSpool::open(dir, 1 << 20, error);
  REQUIRE(spool);
  CHECK(spool->pending() == 1);
  REQUIRE(spool->append("next") == DiskSpool::Append::ok);
  CHECK(spool->peek(10, 1000) == std::vector<std::string>{"whole", "next"});
  fs::remove_all(dir);
}

TEST_CASE("spool: one owner at a time", "[spool]") {
  const auto dir = temp_dir("spool-lock");
  std::string error;
  auto first = DiskSpool::open(dir, 1 << 20, error);
  REQUIRE(first);
  // flock is per open file description, so a second open in this process conflicts too.
  CHECK_FALSE(DiskSpool::open(dir, 1 << 20, error));
  CHECK(error.find("in use by another process") != std::string::npos);
  first.reset();
  error.clear();
  CHECK(DiskSpool::open(dir, 1 << 20, error));
  fs::remove_all(dir);
}

TEST_CASE("spool: bounded", "[spool]") {
  const auto dir = temp_dir("spool-full");
  std::string error;
  auto spool = DiskSpool::open(dir, 20, error);
  REQUIRE(spool);
  CHECK(spool->append("0123456789") == DiskSpool::Append::ok);  // 11 bytes with newline
  CHECK(spool->append("0123456789") == DiskSpool::Append::full);
  CHECK(spool->commit(1));
  CHECK(spool->append("0123456789") == DiskSpool::Append::ok);
  fs::remove_all(dir);
}

TEST_CASE("spool records round-trip the event and its meta", "[spool]") {
  auto e = flowlier::transport::test::make_event(7, true, SinkSeverity::critical);
  e.meta.summary = "tab\there";
  const auto record = DeliveryService::encode_record(e);
  CHECK(record.find('\n') == std::string::npos);
  SinkEvent back;
  REQUIRE(DeliveryService::decode_record(record, back));
  CHECK(back.json == e.json);
  CHECK(back.meta.id == e.meta.id);
  CHECK(back.meta.resolved);
  CHECK(back.meta.severity == SinkSeverity::critical);
  CHECK(back.meta.summary == "tab\there");
  CHECK(back.meta.time == e.meta.time);
  CHECK_FALSE(DeliveryService::decode_record("garbage", back));
  CHECK_FALSE(DeliveryService::decode_record("{}\t{}", back));
}
