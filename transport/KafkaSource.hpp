#pragma once
// The only code that consumes from Kafka: one member of a consumer group (librdkafka's
// C API) with manual offsets. Offsets are never committed automatically: the caller
// commits what a durable checkpoint covers (commit()). Assignment uses an eager
// protocol (range or roundrobin; see README "Scaling out" for why not
// cooperative-sticky on librdkafka 2.0), so every rebalance revokes everything and
// assigns afresh, and both callbacks run inside poll() on the caller's thread.
// Not thread-safe: one thread polls, assigns, commits.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "transport/KafkaSourceConfig.hpp"

struct rd_kafka_s;

namespace flowlier::transport {

struct KafkaPartition {
  std::string topic;
  std::int32_t partition = 0;
  auto operator<=>(const KafkaPartition&) const = default;
  std::string name() const { return topic + "/" + std::to_string(partition); }
};

struct KafkaMessage {
  const KafkaPartition* partition;
  std::int64_t offset;
  std::string_view payload;
};

class KafkaRebalanceListener {
 public:
  virtual ~KafkaRebalanceListener() = default;
  // Before the assignment takes effect: returns where to start reading each partition
  // (a checkpoint's offset), or a negative value for the group's committed offset.
  virtual std::map<KafkaPartition, std::int64_t> on_assigned(const std::vector<KafkaPartition>& partitions) = 0;
  // Before the partitions go: the last chance to checkpoint and commit them.
  virtual void on_revoked(const std::vector<KafkaPartition>& partitions) = 0;
};

class KafkaSource {
 public:
  // Joins `config.group_id` and subscribes to `config.topics`. Null with `error` set.
  static std::unique_ptr<KafkaSource> open(const KafkaSourceConfig& config, KafkaRebalanceListener& listener,
                                           std::string& error);
  ~KafkaSource();
  KafkaSource(const KafkaSource&) = delete;
  KafkaSource& operator=(const KafkaSource&) = delete;

  // Waits up to `timeout` for messages, handing each to `on_message` (at most
  // `max_messages`). Rebalance callbacks run in here. Returns how many were handed.
  std::size_t poll(std::chrono::milliseconds timeout, std::size_t max_messages,
                   const std::function<void(const KafkaMessage&)>& on_message);
  // Commits `offsets` (the next offset to read, per partition) and waits for the
  // broker's answer. Returns why not, or "".
  std::string commit(const std::map<KafkaPartition, std::int64_t>& offsets);
  // Messages after `next_offset` in the partition, from the last fetch's high watermark.
  std::int64_t lag(const KafkaPartition& partition, std::int64_t next_offset) const;
  // Leaves the group: revokes (on_revoked runs), then closes.
  void close();
  std::uint64_t rebalances() const { return rebalances_; }
  std::uint64_t errors() const { return errors_; }

 private:
  KafkaSource(rd_kafka_s* handle, KafkaRebalanceListener& listener);
  friend struct KafkaSourceCallbacks;
  void rebalance(int err, void* partitions);

  rd_kafka_s* handle_;
  KafkaRebalanceListener& listener_;
  std::map<std::pair<std::string, std::int32_t>, KafkaPartition> names_;  // stable pointers for KafkaMessage
  std::uint64_t rebalances_ = 0;
  std::uint64_t errors_ = 0;
  bool closed_ = false;
};

}  // namespace flowlier::transport
