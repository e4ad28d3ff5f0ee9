#pragma once
// Puts a sink in front of the live publish stage without letting it stall anything:
// push() never waits. While the sink takes events at once (its spool has room) they go
// straight in; when it would block (a full spool under spool_full_policy = "block"),
// the event and every later one go to the sink's backlog on disk
// (<spool_dir>/<id>/backlog, a DiskSpool without a byte bound, created when first
// needed), and this feeder's thread moves them into the sink in order as its spool
// drains. So one dead receiver holds back only its own sink, never the PUB stream or
// the other sinks, and what waits for it is on disk, not in memory: a kill -9 loses
// nothing, a restart resumes the backlog. What the disk refuses is counted as dropped.
// Thread-safe.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "transport/DiskSpool.hpp"
#include "transport/Sink.hpp"

namespace flowlier::transport {

class SinkFeeder {
 public:
  // `backlog_dir`: where the backlog lives ("" for sinks that never wait: no backlog).
  // A backlog left by an earlier run is opened and fed first.
  SinkFeeder(Sink& sink, std::string backlog_dir, std::function<void(const std::string&)> log);
  ~SinkFeeder();  // stops the thread; the backlog stays for the next start
  SinkFeeder(const SinkFeeder&) = delete;
  SinkFeeder& operator=(const SinkFeeder&) = delete;

  void push(const SinkEvent& event);
  // Waits up to `timeout` for the backlog to empty; true if it did.
  bool drain(std::chrono::milliseconds timeout);
  std::uint64_t backlog_events() const { return backlog_events_.load(); }
  std::uint64_t backlog_dropped() const { return backlog_dropped_.load(); }

 private:
  bool open_backlog();  // under mutex_
  void run();

  Sink& sink_;
  std::string backlog_dir_;
  std::function<void(const std::string&)> log_;
  std::unique_ptr<DiskSpool> backlog_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  bool stop_ = false;
  std::atomic<std::uint64_t> backlog_events_{0};
  std::atomic<std::uint64_t> backlog_dropped_{0};
  std::thread thread_;
};

}  // namespace flowlier::transport
