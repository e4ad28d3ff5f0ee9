#pragma once
// A Kafka consumer's model state: one Engine per assigned partition, because a
// partition is a shard. Producers key records by entity (interface), so each entity
// lives in one partition and its engine sees all of its records; each engine runs its
// own watermark over its partition's records (event time, as replay does).
//
// Checkpoints: each partition's engine state with the offset it covers goes to the
// state topic (transport/KafkaStateStore); its offset is committed to the group only
// once that checkpoint is durable. A partition that moves restores there, and what it
// re-reads after the checkpoint gives the same events with the same ids (episode ids
// are the dedup key downstream).
//
// Rebalance (eager): on revoke every partition is checkpointed, committed and
// dropped; on assign each restores its checkpoint and reading starts at its offset.
// Not thread-safe: the consumer thread calls everything; status() is copied out for
// the metrics under a mutex.
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/AnomalyEvent.hpp"
#include "pipeline/Config.hpp"
#include "pipeline/Engine.hpp"
#include "pipeline/InputFormat.hpp"
#include "transport/KafkaSource.hpp"
#include "transport/KafkaStateStore.hpp"

namespace flowlier::app {

struct PartitionStatus {
  std::string name;  // topic/partition
  std::uint64_t records = 0;   // in this process's life, also across reassignments
  std::uint64_t messages = 0;
  std::int64_t lag = 0;
  std::int64_t next_offset = -1;
  std::int64_t checkpoint_offset = -1;  // what the last durable checkpoint covers
  double checkpoint_age_seconds = 0;
  std::uint64_t checkpoint_bytes = 0;
  std::size_t entities = 0;
  std::uint64_t windows_closed = 0;  // by the partition's engine (its state's count, restored with it)
};

struct KafkaStatus {
  bool assigned = false;  // an assignment is in force (it may be empty: more members than partitions)
  std::vector<PartitionStatus> partitions;
  std::uint64_t rebalances = 0;
  std::uint64_t checkpoints = 0;
  std::uint64_t restored = 0;  // partitions assigned with a checkpoint to continue from
  std::uint64_t checkpoint_failures = 0;
  std::uint64_t commit_failures = 0;
  std::uint64_t rejected = 0;
  std::uint64_t unknown_format = 0;
  std::uint64_t events = 0;
  std::uint64_t consumer_errors = 0;
  std::uint64_t idle_advances = 0;  // close points moved by service.idle_seconds
};

class PartitionEngines final : public transport::KafkaRebalanceListener {
 public:
  using Publish = std::function<void(const pipeline::AnomalyEvent&)>;

  PartitionEngines(const pipeline::Config& config, const transport::KafkaSourceConfig& kafka,
                   transport::KafkaStateStore& store, Publish publish);

  void attach(transport::KafkaSource& source) { source_ = &source; }
  // Decodes one message into its partition's engine and publishes the events.
  void process(const transport::KafkaMessage& message);
  // Per-partition idle timeout (service.idle_seconds, as the ZeroMQ intake's): a
  // partition that gave no records that long still moves event time on with the wall
  // clock, so its last windows close and its episodes resolve. Not checkpointed by
  // itself: a new owner that restores the checkpoint closes them again when idle (the
  // same events, same ids) or on the records that come.
  void advance_idle();
  // Checkpoints (and then commits) the partitions whose interval has passed.
  void checkpoint_due();
  // Everything assigned, now (shutdown without leaving the group).
  void checkpoint_all();

  std::map<transport::KafkaPartition, std::int64_t> on_assigned(
      const std::vector<transport::KafkaPartition>& partitions) override;
  void on_revoked(const std::vector<transport::KafkaPartition>& partitions) override;

  // A checkpoint that could not be restored: the process must stop rather than
  // re-open known episodes from nothing.
  const std::string& fatal() const { return fatal_; }
  void refresh_status();
  KafkaStatus status() const;

 private:
  struct Partition {
    std::unique_ptr<pipeline::Engine> engine;
    std::int64_t next_offset = -1;          // after the last message processed
    std::int64_t checkpointed_offset = -1;  // what the last durable checkpoint covers
    std::chrono::steady_clock::time_point checkpointed_at;
    std::uint64_t checkpoint_bytes = 0;
    std::chrono::steady_clock::time_point last_record_at;  // wall time of its last records (or assignment)
    std::int64_t newest = std::numeric_limits<std::int64_t>::min();  // event time of its newest record
  };
  void publish_events(Partition& p);
  void checkpoint(const std::vector<transport::KafkaPartition>& which);
  std::string key(const transport::KafkaPartition& p) const;

  const pipeline::Config& config_;
  const transport::KafkaSourceConfig& kafka_;
  transport::KafkaStateStore& store_;
  Publish publish_;
  std::optional<pipeline::InputFormat> fixed_format_;
  pipeline::EngineConfig engine_config_;
  transport::KafkaSource* source_ = nullptr;
  std::map<transport::KafkaPartition, Partition> partitions_;
  // Records and messages decoded per partition in this process's life: counters that
  // survive a rebalance taking the partition away and giving it back.
  struct Counts {
    std::uint64_t records = 0;
    std::uint64_t messages = 0;
  };
  std::map<transport::KafkaPartition, Counts> counts_;
  std::string fatal_;
  bool assigned_ = false;
  KafkaStatus counters_;
  mutable std::mutex status_mutex_;
  KafkaStatus status_;
};

}  // namespace flowlier::app
