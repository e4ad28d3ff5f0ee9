#include "app/PartitionEngines.hpp"

#include <algorithm>
#include <limits>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/TimeMath.hpp"
#include "pipeline/DecodeSink.hpp"
#include "pipeline/MemoryLimit.hpp"
#include "pipeline/WatermarkTracker.hpp"

namespace flowlier::app {
namespace {
using Clock = std::chrono::steady_clock;
constexpr auto kStoreTimeout = std::chrono::seconds(30);

// Every record of a message into its partition's engine, as replay does.
class EngineFeed final : public pipeline::DecodeSink {
 public:
  explicit EngineFeed(pipeline::Engine& engine) : engine_(engine) {}
  void on_record(const pipeline::FlowRecord& record) override {
    engine_.process(record);
    ++records;
    // The event time the engine's watermark takes from a record (start, else end).
    if (record.has(pipeline::Field::start) || record.has(pipeline::Field::end)) {
      newest = std::max(newest, (record.has(pipeline::Field::start) ? record.start_ns : record.end_ns) / 1'000'000'000);
    }
  }
  void on_reject(const pipeline::Reject&) override { ++rejected; }
  std::uint64_t records = 0;
  std::uint64_t rejected = 0;
  std::int64_t newest = std::numeric_limits<std::int64_t>::min();

 private:
  pipeline::Engine& engine_;
};
}  // namespace

PartitionEngines::PartitionEngines(const pipeline::Config& config, const transport::KafkaSourceConfig& kafka,
                                   transport::KafkaStateStore& store, Publish publish)
    : config_(config), kafka_(kafka), store_(store), publish_(std::move(publish)), engine_config_(config.engine) {
  if (kafka.format != "auto") fixed_format_ = pipeline::parse_input_format(kafka.format);
  // Each engine is a whole shard of its own (one partition); [limits] max_memory is
  // for one engine, as in replay, since how many partitions come is not known.
  engine_config_.shard_index = 0;
  engine_config_.shard_count = 1;
  engine_config_.windows.max_entities =
      pipeline::entity_cap(config.engine.windows.max_entities, config.limits.max_memory, 1).max_entities;
}

std::string PartitionEngines::key(const transport::KafkaPartition& p) const {
  return transport::KafkaStateStore::key(kafka_.group_id, p.topic, p.partition);
}

void PartitionEngines::process(const transport::KafkaMessage& message) {
  const auto it = partitions_.find(*message.partition);
  if (it == partitions_.end()) return;  // fetched before a revoke: its new owner reads it again
  Partition& p = it->second;
  const auto format = fixed_format_ ? fixed_format_ : pipeline::detect_input_format(message.payload.substr(0, 4096));
  EngineFeed feed(*p.engine);
  if (!format) {
    ++counters_.unknown_format;
  } else if (auto decoder = pipeline::make_decoder(*format, config_.decoder)) {
    decoder->feed(message.payload, 1, feed);
    decoder->finish(feed);
  }
  Counts& counts = counts_[it->first];
  counts.records += feed.records;
  ++counts.messages;
  counters_.rejected += feed.rejected;
  p.next_offset = message.offset + 1;
  if (feed.records > 0) {
    p.last_record_at = Clock::now();
    p.newest = std::max(p.newest, feed.newest);
  }
  publish_events(p);
}

void PartitionEngines::publish_events(Partition& p) {
  for (const auto& event : p.engine->take_events()) {
    publish_(event);
    ++counters_.events;
  }
}

void PartitionEngines::advance_idle() {
  const double idle_seconds = config_.service.idle_seconds;
  if (!(idle_seconds > 0)) return;
  const std::int64_t window = config_.engine.windows.window_seconds;
  const std::int64_t lateness = config_.engine.windows.allowed_lateness_seconds;
  const auto now = Clock::now();
  for (auto& [name, p] : partitions_) {
    if (p.newest == std::numeric_limits<std::int64_t>::min() ||
        now - p.last_record_at < std::chrono::duration<double>(idle_seconds))
      continue;
    // As the ZeroMQ intake does: event time is taken to follow the wall clock from the
    // newest record the partition gave, and windows close once that (minus the allowed
    // lateness) passes them. From the records' own newest time, not the engine's
    // watermark, which an advance moves on by itself.
    const auto idle = std::chrono::duration_cast<std::chrono::seconds>(now - p.last_record_at).count();
    const auto boundary = core::window_start(p.newest + idle - lateness, window);
    if (boundary <= p.engine->watermark().close_point()) continue;
    p.engine->advance(boundary);
    ++counters_.idle_advances;
    publish_events(p);
  }
}

void PartitionEngines::checkpoint(const std::vector<transport::KafkaPartition>& which) {
  std::map<transport::KafkaPartition, std::int64_t> covered;
  for (const auto& name : which) {
    const auto it = partitions_.find(name);
    if (it == partitions_.end()) continue;
    Partition& p = it->second;
    if (p.next_offset < 0 || p.next_offset == p.checkpointed_offset) {
      p.checkpointed_at = Clock::now();  // nothing new: the last checkpoint still covers it
      continue;
    }
    std::ostringstream state;
    p.engine->save(state);
    const std::string bytes = state.str();
    if (auto error = store_.write(key(name), bytes, p.next_offset, kStoreTimeout); !error.empty()) {
      ++counters_.checkpoint_failures;
      fmt::print(stderr, "run: kafka: {} (offsets not committed; retried at the next interval)\n", error);
      continue;
    }
    ++counters_.checkpoints;
    p.checkpointed_offset = p.next_offset;
    p.checkpointed_at = Clock::now();
    p.checkpoint_bytes = bytes.size();
    covered[name] = p.next_offset;
  }
  // Only now, with every checkpoint above stored, may the group move past them.
  if (source_ && !covered.empty()) {
    if (auto error = source_->commit(covered); !error.empty()) {
      ++counters_.commit_failures;
      fmt::print(stderr, "run: kafka: {} (the checkpoints hold the offsets: a new owner seeks there)\n", error);
    }
  }
}

void PartitionEngines::checkpoint_due() {
  const auto now = Clock::now();
  const auto interval = std::chrono::duration<double>(kafka_.checkpoint_interval_seconds);
  std::vector<transport::KafkaPartition> due;
  for (const auto& [name, p] : partitions_) {
    if (now - p.checkpointed_at >= interval) due.push_back(name);
  }
  if (!due.empty()) checkpoint(due);
}

void PartitionEngines::checkpoint_all() {
  std::vector<transport::KafkaPartition> all;
  for (const auto& [name, p] : partitions_) all.push_back(name);
  checkpoint(all);
}

std::map<transport::KafkaPartition, std::int64_t> PartitionEngines::on_assigned(
    const std::vector<transport::KafkaPartition>& partitions) {
  assigned_ = true;
  std::set<std::string> keys;
  for (const auto& p : partitions) keys.insert(key(p));
  std::string error;
  const auto started = Clock::now();
  auto checkpoints = store_.read(keys, kStoreTimeout, error);
  if (!error.empty()) {
    // Reading on without a partition's baselines would re-open its known episodes.
    fatal_ = fmt::format("cannot restore partition checkpoints: {}", error);
  }
  std::map<transport::KafkaPartition, std::int64_t> starts;
  for (const auto& name : partitions) {
    Partition p;
    p.engine = std::make_unique<pipeline::Engine>(engine_config_);
    p.checkpointed_at = p.last_record_at = Clock::now();
    if (const auto it = checkpoints.find(key(name)); it != checkpoints.end()) {
      std::istringstream in(it->second.state);
      if (auto why = p.engine->restore(in); !why.empty()) {
        fatal_ = fmt::format("cannot restore the checkpoint of {}: {}", name.name(), why);
      }
      p.next_offset = p.checkpointed_offset = it->second.offset;
      // Idle from now on, if nothing comes, from where the checkpoint's event time was.
      if (p.engine->watermark().newest() > std::numeric_limits<std::int64_t>::min() / 2)  // not the initial one
        p.newest = p.engine->watermark().newest();
      p.checkpoint_bytes = it->second.state.size();
      starts[name] = it->second.offset;
      ++counters_.restored;
    }
    partitions_[name] = std::move(p);
  }
  fmt::print(stderr, "run: kafka: assigned {} partition{} ({} restored from checkpoints in {:.2f} s)\n",
             partitions.size(), partitions.size() == 1 ? "" : "s", checkpoints.size(),
             std::chrono::duration<double>(Clock::now() - started).count());
  return starts;
}

void PartitionEngines::on_revoked(const std::vector<transport::KafkaPartition>& partitions) {
  // Windows stay open in the checkpoint: the next owner closes them where one engine
  // would, on the watermark of the records it reads after the checkpoint.
  // After a failed restore the engines hold nothing: writing them would overwrite the
  // checkpoint that could not be read.
  if (fatal_.empty()) checkpoint(partitions);
  for (const auto& name : partitions) partitions_.erase(name);
  assigned_ = false;
  fmt::print(stderr, "run: kafka: {} partition{} revoked{}\n", partitions.size(), partitions.size() == 1 ? "" : "s",
             fatal_.empty() ? ", checkpointed and committed" : " (not checkpointed: their state was not restored)");
}

void PartitionEngines::refresh_status() {
  KafkaStatus s = counters_;
  s.assigned = assigned_;
  const auto now = Clock::now();
  for (const auto& [name, p] : partitions_) {
    PartitionStatus ps;
    ps.name = name.name();
    ps.records = counts_[name].records;
    ps.messages = counts_[name].messages;
    ps.next_offset = p.next_offset;
    ps.checkpoint_offset = p.checkpointed_offset;
    ps.lag = source_ ? source_->lag(name, p.next_offset) : 0;
    ps.checkpoint_age_seconds = std::chrono::duration<double>(now - p.checkpointed_at).count();
    ps.checkpoint_bytes = p.checkpoint_bytes;
    ps.entities = p.engine->entity_count();
    ps.windows_closed = p.engine->window_stats().windows_closed;
    s.partitions.push_back(std::move(ps));
  }
  if (source_) {
    s.rebalances = source_->rebalances();
    s.consumer_errors = source_->errors();
  }
  std::lock_guard lock(status_mutex_);
  status_ = std::move(s);
}

KafkaStatus PartitionEngines::status() const {
  std::lock_guard lock(status_mutex_);
  return status_;
}

}  // namespace flowlier::app
