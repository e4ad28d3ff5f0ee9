#include "transport/SinkFeeder.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <limits>
#include <vector>

#include "transport/DeliveryService.hpp"

namespace flowlier::transport {

namespace {
constexpr std::size_t kMoveBatch = 256;  // records moved into the sink per commit (one fsync)
constexpr auto kRetry = std::chrono::milliseconds(100);
}  // namespace

SinkFeeder::SinkFeeder(Sink& sink, std::string backlog_dir, std::function<void(const std::string&)> log)
    : sink_(sink), backlog_dir_(std::move(backlog_dir)), log_(std::move(log)) {
  if (!log_) log_ = [](const std::string&) {};
  std::error_code ec;
  if (!backlog_dir_.empty() && std::filesystem::exists(backlog_dir_, ec)) {
    std::lock_guard lock(mutex_);
    if (open_backlog() && backlog_->pending() > 0) {
      log_(fmt::format("sink {}: resuming with {} events in its backlog", sink_.id(), backlog_->pending()));
    }
  }
  thread_ = std::thread([this] { run(); });
}

SinkFeeder::~SinkFeeder() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    if (backlog_) backlog_->sync();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool SinkFeeder::open_backlog() {
  if (backlog_) return true;
  if (backlog_dir_.empty()) return false;
  std::string error;
  backlog_ = DiskSpool::open(backlog_dir_, std::numeric_limits<std::uint64_t>::max(), error);
  if (!backlog_) {
    log_(fmt::format("sink {}: cannot open its backlog {}: {}", sink_.id(), backlog_dir_, error));
    return false;
  }
  backlog_events_.store(backlog_->pending());
  return true;
}

void SinkFeeder::push(const SinkEvent& event) {
  std::lock_guard lock(mutex_);
  // In order: once anything waits in the backlog, everything after it waits too.
  if ((!backlog_ || backlog_->pending() == 0) && sink_.try_push(event)) return;
  if (!open_backlog() || backlog_->append(DeliveryService::encode_record(event)) != DiskSpool::Append::ok) {
    // The event can go nowhere: the sink waits and the disk refuses it.
    backlog_dropped_.fetch_add(1);
    log_(fmt::format("sink {}: event {} dropped: its spool is full and the backlog cannot take it{}", sink_.id(),
                     event.meta.id, backlog_ ? ": " + backlog_->error() : ""));
    return;
  }
  backlog_->sync();  // only while the sink waits: events are rare, a lost one is not
  backlog_events_.store(backlog_->pending());
  if (backlog_->pending() == 1) wake_.notify_all();
}

bool SinkFeeder::drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  wake_.notify_all();
  return drained_.wait_for(lock, timeout, [&] { return !backlog_ || backlog_->pending() == 0; });
}

void SinkFeeder::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    if (!backlog_ || backlog_->pending() == 0) {
      drained_.notify_all();
      wake_.wait(lock, [&] { return stop_ || (backlog_ && backlog_->pending() > 0); });
      continue;
    }
    const auto records = backlog_->peek(kMoveBatch, std::numeric_limits<std::size_t>::max());
    std::size_t moved = 0;
    for (const auto& record : records) {
      SinkEvent event;
      if (!DeliveryService::decode_record(record, event)) {
        log_(fmt::format("sink {}: an unreadable backlog record was skipped", sink_.id()));
        backlog_dropped_.fetch_add(1);
      } else if (!sink_.try_push(event)) {
        break;  // the sink's spool is full again
      }
      ++moved;
    }
    if (moved > 0 && !backlog_->commit(moved)) {
      log_(fmt::format("sink {}: backlog: {}", sink_.id(), backlog_->error()));
    }
    backlog_events_.store(backlog_->pending());
    if (moved < records.size()) wake_.wait_for(lock, kRetry, [&] { return stop_; });
  }
}

}  // namespace flowlier::transport
