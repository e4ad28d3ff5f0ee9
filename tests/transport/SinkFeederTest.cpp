#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "transport/SinkFeeder.hpp"
#include "tests/transport/TestEvents.hpp"

using namespace flowlier::transport;
using flowlier::transport::test::make_event;
namespace fs = std::filesystem;

namespace {
// A sink whose spool takes `room` events, then waits (block policy) until given more.
class RoomSink final : public Sink {
 public:
  const std::string& id() const override { return id_; }
  void push(const SinkEvent& e) override {
    while (!try_push(e)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  bool try_push(const SinkEvent& e) override {
    std::lock_guard lock(mutex);
    if (room == 0) return false;
    --room;
    ids.push_back(e.meta.id);
    return true;
  }
  bool flush(std::chrono::milliseconds) override { return true; }
  SinkCounters counters() const override { return {}; }
  std::mutex mutex;
  std::size_t room = 0;
  std::vector<std::string> ids;

 private:
  std::string id_ = "room";
};

std::vector<std::string> taken(RoomSink& s) {
  std::lock_guard lock(s.mutex);
  return s.ids;
}
}  // namespace

TEST_CASE("SinkFeeder: a full sink never blocks push; the backlog on disk feeds it in order, across restarts") {
  const fs::path dir = fs::temp_directory_path() / ("flowlier-feeder-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  RoomSink sink;
  sink.room = 2;
  std::vector<std::string> expected;
  {
    SinkFeeder feeder(sink, (dir / "backlog").string(), nullptr);
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 50; ++i) {
      feeder.push(make_event(i));
      expected.push_back(make_event(i).meta.id);
    }
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));  // never waited for the sink
    CHECK(taken(sink).size() == 2);
    CHECK(feeder.backlog_events() == 48);
    CHECK_FALSE(feeder.drain(std::chrono::milliseconds(50)));
  }  // stopped (as by a kill or SIGTERM) with 48 events waiting: they stay on disk
  {
    std::lock_guard lock(sink.mutex);
    sink.room = 1000;
  }
  SinkFeeder restarted(sink, (dir / "backlog").string(), nullptr);
  restarted.push(make_event(50));  // after the backlog, in order
  expected.push_back(make_event(50).meta.id);
  REQUIRE(restarted.drain(std::chrono::seconds(5)));
  CHECK(taken(sink) == expected);
  CHECK(restarted.backlog_events() == 0);
  CHECK(restarted.backlog_dropped() == 0);
  fs::remove_all(dir);
}
