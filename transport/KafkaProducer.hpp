#pragma once
// The Kafka sink's producer ([[sinks]] type = "kafka"): sends one batch of events to the
// sink's topic and waits for every delivery report. DeliveryService drives it as it
// drives an HTTP receiver (spool first, commit after delivery, backoff, dead letters),
// so the batch's outcome is given as the status the service already classifies:
//   200      every event stored (idempotent producer: acks=all, librdkafka's own retries
//            never duplicate or reorder within a partition)
//   413      an event larger than the broker takes: permanent, split down and dead-lettered
//   403, 404 not allowed to write, or no such topic: configuration error, slow retry
//   0        anything else, e.g. brokers down past message.timeout.ms: the whole batch is
//            retried from the spool (its events already stored come again, identical)
// Each message: key = the episode id or "kind/entity" (SinkConfig::kafka_key), value =
// the event JSON, headers flowlier-id and flowlier-episode. A fatal producer error (the
// idempotence state is lost) recreates the producer before the next batch.
// Not thread-safe: the sender thread only.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "transport/HttpClient.hpp"
#include "transport/SinkConfig.hpp"
#include "transport/SinkEvent.hpp"

struct rd_kafka_s;

namespace flowlier::transport {

class KafkaProducer {
 public:
  // Null with `error` set when a property is refused, or without librdkafka.
  static std::unique_ptr<KafkaProducer> open(const SinkConfig& config, std::string& error);
  // Waits up to 5 s for what is in flight; the rest stays in the spool.
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  // Produces `events` and waits for their delivery reports. False (response unset) when
  // `stopping` turned true first: what was queued is purged and stays in the spool.
  bool send(std::span<const SinkEvent> events, const std::function<bool()>& stopping, HttpResponse& response);

  static std::string key(const SinkEvent& event, KafkaKey by);
  // The delivery-report callback's entry (on the caller's thread, inside poll). `tag`
  // is the message's opaque: the batch generation (high half) and the event's index.
  void delivered(std::uint64_t tag, int error, const char* reason, bool fatal);

 private:
  explicit KafkaProducer(const SinkConfig& config) : config_(config) {}
  std::string create();  // (re)creates handle_; "" or why not
  void destroy();
  void record(std::size_t index, int error, const char* reason, bool fatal);

  SinkConfig config_;
  rd_kafka_s* handle_ = nullptr;
  std::chrono::milliseconds message_timeout_{30000};
  // The batch in flight: one report per event; `reports_` counts them.
  // A report for a batch given up (purged) has an older generation and is ignored.
  std::uint32_t generation_ = 0;
  std::vector<int> results_;
  std::size_t reports_ = 0;
  std::string last_reason_;
  bool fatal_ = false;
};

}  // namespace flowlier::transport
