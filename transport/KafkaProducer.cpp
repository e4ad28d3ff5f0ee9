#include "transport/KafkaProducer.hpp"

#if FLOWLIER_KAFKA
#include <librdkafka/rdkafka.h>
#endif

#include <cstdint>
#include <cstdlib>

#include <fmt/format.h>

#include "transport/KafkaProperties.hpp"

namespace flowlier::transport {

std::string KafkaProducer::key(const SinkEvent& event, KafkaKey by) {
  if (by == KafkaKey::episode) return event.meta.episode;
  return event.meta.entity_kind + "/" + event.meta.entity_id;
}

void KafkaProducer::delivered(std::uint64_t tag, int error, const char* reason, bool fatal) {
  if (static_cast<std::uint32_t>(tag >> 32) != generation_) return;
  record(static_cast<std::uint32_t>(tag), error, reason, fatal);
}

void KafkaProducer::record(std::size_t index, int error, const char* reason, bool fatal) {
  if (index >= results_.size() || results_[index] != -1) return;
  results_[index] = error;
  ++reports_;
  if (error != 0 && reason != nullptr) last_reason_ = reason;
  fatal_ = fatal_ || fatal;
}

#if FLOWLIER_KAFKA

namespace {
std::uint64_t tag(std::uint32_t generation, std::size_t index) {
  return (static_cast<std::uint64_t>(generation) << 32) | static_cast<std::uint32_t>(index);
}

// The HTTP status DeliveryService classifies, for one librdkafka error (0: retry).
long status_of(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR: return 200;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG: return 413;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED: return 403;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART: return 404;
    default: return 0;
  }
}
// Which status a batch gets when its events differ: a configuration error first (the
// operator must act), then a retry (a permanent refusal may go with the retry), then 413.
int rank(long status) { return status == 403 || status == 404 ? 3 : status == 0 ? 2 : status == 413 ? 1 : 0; }
}  // namespace

struct KafkaProducerCallbacks {
  static void delivered(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) {
    const auto t = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m->_private));
    auto* producer = static_cast<KafkaProducer*>(opaque);
    char fatal_reason[256];
    const bool fatal = m->err == RD_KAFKA_RESP_ERR__FATAL ||
                       rd_kafka_fatal_error(rk, fatal_reason, sizeof fatal_reason) != RD_KAFKA_RESP_ERR_NO_ERROR;
    producer->delivered(t, m->err, m->err ? rd_kafka_err2str(m->err) : nullptr, fatal);
  }
};

std::unique_ptr<KafkaProducer> KafkaProducer::open(const SinkConfig& config, std::string& error) {
  std::unique_ptr<KafkaProducer> producer(new KafkaProducer(config));
  for (const char* name : {"message.timeout.ms", "delivery.timeout.ms"}) {
    if (auto it = config.librdkafka.find(name); it != config.librdkafka.end())
      producer->message_timeout_ = std::chrono::milliseconds(std::strtoll(it->second.c_str(), nullptr, 10));
  }
  error = producer->create();
  if (!error.empty()) return nullptr;
  return producer;
}

std::string KafkaProducer::create() {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char why[512];
  // Ours first, so the pass-through may change it: an unreachable cluster turns into a
  // spool retry after 30 s instead of librdkafka's 5 minutes.
  rd_kafka_conf_set(conf, "message.timeout.ms", "30000", why, sizeof why);
  std::string error = apply_kafka_properties(conf, config_.brokers, config_.librdkafka, "sinks.librdkafka");
  // Idempotent: librdkafka's own retries store each message once and in order (acks=all).
  if (error.empty() && rd_kafka_conf_set(conf, "enable.idempotence", "true", why, sizeof why) != RD_KAFKA_CONF_OK)
    error = why;
  if (!error.empty()) {
    rd_kafka_conf_destroy(conf);
    return error;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, &KafkaProducerCallbacks::delivered);
  rd_kafka_conf_set_opaque(conf, this);
  handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
  if (!handle_) {
    rd_kafka_conf_destroy(conf);
    return fmt::format("cannot create the Kafka producer: {}", why);
  }
  fatal_ = false;
  return {};
}

void KafkaProducer::destroy() {
  if (!handle_) return;
  ++generation_;  // reports still to come belong to no batch
  rd_kafka_flush(handle_, 5000);
  rd_kafka_purge(handle_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(handle_, 0);
  rd_kafka_destroy(handle_);
  handle_ = nullptr;
}

KafkaProducer::~KafkaProducer() { destroy(); }

bool KafkaProducer::send(std::span<const SinkEvent> events, const std::function<bool()>& stopping,
                         HttpResponse& response) {
  response = {};
  if (fatal_) destroy();
  if (!handle_) {
    if (auto error = create(); !error.empty()) {
      response.error = error;
      return true;
    }
  }
  const std::uint32_t generation = ++generation_;
  results_.assign(events.size(), -1);
  reports_ = 0;
  last_reason_.clear();
  const auto give_up = [&] {
    ++generation_;
    rd_kafka_purge(handle_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(handle_, 0);
  };
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    const std::string k = key(e, config_.kafka_key);
    while (true) {
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          handle_, RD_KAFKA_V_TOPIC(config_.topic.c_str()), RD_KAFKA_V_KEY(k.data(), k.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(e.json.data()), e.json.size()),
          RD_KAFKA_V_HEADER("flowlier-id", e.meta.id.data(), static_cast<ssize_t>(e.meta.id.size())),
          RD_KAFKA_V_HEADER("flowlier-episode", e.meta.episode.data(), static_cast<ssize_t>(e.meta.episode.size())),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(tag(generation, i)))), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {  // refused at once (too large, unknown topic): no report comes
        record(i, err, rd_kafka_err2str(err), false);
        break;
      }
      rd_kafka_poll(handle_, 50);
      if (stopping()) {
        give_up();
        return false;
      }
    }
  }
  // librdkafka reports every message within message.timeout.ms; the margin covers a
  // report stuck behind a slow broker connection.
  const auto deadline = std::chrono::steady_clock::now() + message_timeout_ + std::chrono::seconds(10);
  while (reports_ < events.size()) {
    rd_kafka_poll(handle_, 100);
    if (stopping()) {
      give_up();
      return false;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      give_up();
      last_reason_ = "no delivery report within message.timeout.ms";
      break;
    }
  }
  long status = 200;
  std::size_t failed = 0;
  for (const int result : results_) {
    const long s = result == -1 ? 0 : status_of(static_cast<rd_kafka_resp_err_t>(result));
    if (s != 200) ++failed;
    if (rank(s) > rank(status)) status = s;
  }
  response.status = status;
  if (failed > 0) {
    response.error = fmt::format("{} of {} events not stored: {}", failed, events.size(), last_reason_);
    response.body = response.error;
  }
  return true;
}

#else  // built without librdkafka

std::unique_ptr<KafkaProducer> KafkaProducer::open(const SinkConfig&, std::string& error) {
  error = "this flowlier was built without librdkafka (FLOWLIER_KAFKA): no kafka sink";
  return nullptr;
}
KafkaProducer::~KafkaProducer() = default;
bool KafkaProducer::send(std::span<const SinkEvent>, const std::function<bool()>&, HttpResponse& response) {
  response = {};
  response.error = "no librdkafka";
  return true;
}

#endif

}  // namespace flowlier::transport
