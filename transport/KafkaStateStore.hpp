#pragma once
// Per-partition checkpoints in a compacted Kafka topic, the way Kafka Streams keeps a
// changelog: the state of the partition's engine with the offset it covers.
//
//   key K = "group/topic/partition"     head: "flowlier-checkpoint 1 slot offset chunks bytes checksum"
//   key K + "/" + slot + "/" + i        chunk i of the state (slot a or b)
//
// A write puts the chunks in the slot the current head does not name, then the head:
// a crash mid-write leaves the previous checkpoint whole, and compaction keeps exactly
// one value per key. The caller commits source offsets only after write() returned ""
// (every message's delivery report said it is stored).
// Not thread-safe.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "transport/KafkaSourceConfig.hpp"

struct rd_kafka_s;

namespace flowlier::transport {

struct KafkaCheckpoint {
  std::int64_t offset = -1;  // the next offset to read: the state covers everything before
  std::string state;
  char slot = 'a';
};

class KafkaStateStore {
 public:
  // An idempotent producer to config.state_topic. Null with `error` set.
  static std::unique_ptr<KafkaStateStore> open(const KafkaSourceConfig& config, std::string& error);
  ~KafkaStateStore();
  KafkaStateStore(const KafkaStateStore&) = delete;
  KafkaStateStore& operator=(const KafkaStateStore&) = delete;

  static std::string key(const std::string& group, const std::string& topic, std::int32_t partition);

  // Produces the checkpoint and waits up to `timeout` for every delivery report.
  // Returns why it is not durable, or "".
  std::string write(const std::string& key, std::string_view state, std::int64_t offset, std::chrono::milliseconds timeout);
  // Reads the state topic to its end (at most `timeout`) and returns the newest whole
  // checkpoint of each of `keys` found; a damaged one is reported in `error` and left out.
  std::map<std::string, KafkaCheckpoint> read(const std::set<std::string>& keys, std::chrono::milliseconds timeout,
                                              std::string& error);

  std::uint64_t delivery_failures() const { return delivery_failures_; }

 private:
  friend struct KafkaStateStoreCallbacks;
  KafkaStateStore(rd_kafka_s* producer, KafkaSourceConfig config);

  rd_kafka_s* producer_;
  KafkaSourceConfig config_;
  std::map<std::string, char> slots_;  // the slot each key's current head names
  std::uint64_t pending_failures_ = 0;  // delivery reports with an error, during one write
  std::uint64_t delivery_failures_ = 0;
  std::string last_failure_;
};

}  // namespace flowlier::transport
