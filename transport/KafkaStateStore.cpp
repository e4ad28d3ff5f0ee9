#include "transport/KafkaStateStore.hpp"

#include <librdkafka/rdkafka.h>

#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "transport/KafkaProperties.hpp"

namespace flowlier::transport {

struct KafkaStateStoreCallbacks {
  static void delivered(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    if (!m->err) return;
    auto* store = static_cast<KafkaStateStore*>(opaque);
    ++store->pending_failures_;
    ++store->delivery_failures_;
    store->last_failure_ = rd_kafka_err2str(m->err);
  }
};

namespace {
constexpr std::string_view kHeadTag = "flowlier-checkpoint 1";

std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

struct Head {
  char slot = 'a';
  std::int64_t offset = -1;
  std::size_t chunks = 0;
  std::size_t bytes = 0;
  std::uint64_t checksum = 0;
};

bool parse_head(std::string_view value, Head& head) {
  if (value.substr(0, kHeadTag.size()) != kHeadTag) return false;
  std::istringstream in{std::string(value.substr(kHeadTag.size()))};
  std::string slot;
  in >> slot >> head.offset >> head.chunks >> head.bytes >> std::hex >> head.checksum;
  if (!in || slot.size() != 1 || (slot[0] != 'a' && slot[0] != 'b')) return false;
  head.slot = slot[0];
  return true;
}

rd_kafka_conf_t* client_conf(const KafkaSourceConfig& config, std::string& error) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  error = apply_kafka_properties(conf, config.brokers, config.librdkafka, "source.kafka.librdkafka");
  if (!error.empty()) {
    rd_kafka_conf_destroy(conf);
    return nullptr;
  }
  return conf;
}
}  // namespace

std::string KafkaStateStore::key(const std::string& group, const std::string& topic, std::int32_t partition) {
  return fmt::format("{}/{}/{}", group, topic, partition);
}

std::unique_ptr<KafkaStateStore> KafkaStateStore::open(const KafkaSourceConfig& config, std::string& error) {
  rd_kafka_conf_t* conf = client_conf(config, error);
  if (!conf) return nullptr;
  char why[512];
  // Idempotent: a retried send is stored once and in order (acks=all implied).
  if (rd_kafka_conf_set(conf, "enable.idempotence", "true", why, sizeof why) != RD_KAFKA_CONF_OK) {
    error = why;
    rd_kafka_conf_destroy(conf);
    return nullptr;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, &KafkaStateStoreCallbacks::delivered);
  std::unique_ptr<KafkaStateStore> store(new KafkaStateStore(nullptr, config));
  rd_kafka_conf_set_opaque(conf, store.get());
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
  if (!producer) {
    rd_kafka_conf_destroy(conf);
    error = fmt::format("cannot create the checkpoint producer: {}", why);
    return nullptr;
  }
  store->producer_ = producer;
  return store;
}

KafkaStateStore::KafkaStateStore(rd_kafka_s* producer, KafkaSourceConfig config)
    : producer_(producer), config_(std::move(config)) {}

KafkaStateStore::~KafkaStateStore() {
  if (!producer_) return;
  rd_kafka_flush(producer_, 5000);
  rd_kafka_destroy(producer_);
}

std::string KafkaStateStore::write(const std::string& key, std::string_view state, std::int64_t offset,
                                   std::chrono::milliseconds timeout) {
  const char slot = slots_.count(key) && slots_[key] == 'a' ? 'b' : 'a';
  const std::size_t chunk = config_.checkpoint_chunk_bytes;
  const std::size_t chunks = state.empty() ? 0 : (state.size() + chunk - 1) / chunk;
  pending_failures_ = 0;
  const auto produce = [&](const std::string& k, std::string_view value) -> std::string {
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_, RD_KAFKA_V_TOPIC(config_.state_topic.c_str()), RD_KAFKA_V_KEY(k.data(), k.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer_, 100);
      return "queue full";
    }
    return err ? rd_kafka_err2str(err) : std::string();
  };
  for (std::size_t i = 0; i < chunks; ++i) {
    const std::string k = fmt::format("{}/{}/{}", key, slot, i);
    std::string error;
    for (int attempt = 0; attempt < 100 && (error = produce(k, state.substr(i * chunk, chunk))) == "queue full";) ++attempt;
    if (!error.empty()) return fmt::format("checkpoint {}: {}", key, error);
  }
  // The head only once every chunk is stored: a head never names a missing chunk.
  if (rd_kafka_flush(producer_, static_cast<int>(timeout.count())) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return fmt::format("checkpoint {}: chunks not delivered within {} ms", key, timeout.count());
  if (pending_failures_) return fmt::format("checkpoint {}: {}", key, last_failure_);
  const std::string head = fmt::format("{} {} {} {} {} {:x}", kHeadTag, slot, offset, chunks, state.size(), fnv1a(state));
  if (auto error = produce(key, head); !error.empty()) return fmt::format("checkpoint {}: {}", key, error);
  if (rd_kafka_flush(producer_, static_cast<int>(timeout.count())) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return fmt::format("checkpoint {}: head not delivered within {} ms", key, timeout.count());
  if (pending_failures_) return fmt::format("checkpoint {}: {}", key, last_failure_);
  slots_[key] = slot;
  return {};
}

std::map<std::string, KafkaCheckpoint> KafkaStateStore::read(const std::set<std::string>& keys,
                                                             std::chrono::milliseconds timeout, std::string& error) {
  std::map<std::string, KafkaCheckpoint> out;
  if (keys.empty()) return out;
  rd_kafka_conf_t* conf = client_conf(config_, error);
  if (!conf) return out;
  char why[512];
  // A group id only because librdkafka's consumer poll wants one: the reader assigns,
  // never subscribes or commits, so it never joins that group.
  const std::string group = config_.group_id + ".state-reader";
  rd_kafka_conf_set(conf, "group.id", group.c_str(), why, sizeof why);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", why, sizeof why);
  rd_kafka_t* reader = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
  if (!reader) {
    rd_kafka_conf_destroy(conf);
    error = fmt::format("cannot create the checkpoint reader: {}", why);
    return out;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto left_ms = [&] {
    return static_cast<int>(std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count()));
  };
  // Which partitions the state topic has, and where each ends now.
  rd_kafka_topic_t* topic = rd_kafka_topic_new(reader, config_.state_topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(reader, 0, topic, &metadata, left_ms());
  std::vector<std::pair<std::int32_t, std::int64_t>> ends;
  if (!err && metadata->topic_cnt == 1 && !metadata->topics[0].err) {
    for (int i = 0; i < metadata->topics[0].partition_cnt; ++i) {
      const std::int32_t p = metadata->topics[0].partitions[i].id;
      std::int64_t low = 0, high = 0;
      err = rd_kafka_query_watermark_offsets(reader, config_.state_topic.c_str(), p, &low, &high, left_ms());
      if (err) break;
      if (high > low) ends.emplace_back(p, high);
    }
  } else if (!err && metadata->topic_cnt == 1 &&
             metadata->topics[0].err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    err = metadata->topics[0].err;
  }
  if (metadata) rd_kafka_metadata_destroy(metadata);
  rd_kafka_topic_destroy(topic);
  if (err) {
    error = fmt::format("cannot read the state topic {}: {}", config_.state_topic, rd_kafka_err2str(err));
    rd_kafka_destroy(reader);
    return out;
  }
  // Newest value per key: heads by key, chunks by their own keys.
  std::map<std::string, std::string> values;
  if (!ends.empty()) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(ends.size()));
    for (const auto& [p, high] : ends)
      rd_kafka_topic_partition_list_add(list, config_.state_topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(reader, list);
    rd_kafka_topic_partition_list_destroy(list);
    std::map<std::int32_t, std::int64_t> remaining(ends.begin(), ends.end());
    while (!remaining.empty() && left_ms() > 0) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(reader, std::min(left_ms(), 200));
      if (!m) continue;
      if (!m->err && m->key) {
        const std::string_view k(static_cast<const char*>(m->key), m->key_len);
        // Only the keys asked for (heads) and their chunks (key/slot/i) are kept.
        bool wanted = false;
        for (const auto& key : keys) {
          wanted = k.substr(0, key.size()) == key && (k.size() == key.size() || k[key.size()] == '/');
          if (wanted) break;
        }
        if (wanted)
          values[std::string(k)].assign(static_cast<const char*>(m->payload), m->len);
      }
      if (!m->err && m->offset + 1 >= remaining[m->partition]) remaining.erase(m->partition);
      rd_kafka_message_destroy(m);
    }
    if (!remaining.empty()) error = fmt::format("the state topic {} was not read to its end in time", config_.state_topic);
  }
  rd_kafka_destroy(reader);
  for (const auto& key : keys) {
    const auto it = values.find(key);
    Head head;
    if (it == values.end()) continue;
    if (!parse_head(it->second, head)) {
      error = fmt::format("checkpoint {}: unreadable head", key);
      continue;
    }
    KafkaCheckpoint c;
    c.offset = head.offset;
    c.slot = head.slot;
    bool whole = true;
    for (std::size_t i = 0; whole && i < head.chunks; ++i) {
      const auto chunk = values.find(fmt::format("{}/{}/{}", key, head.slot, i));
      whole = chunk != values.end();
      if (whole) c.state += chunk->second;
    }
    if (!whole || c.state.size() != head.bytes || fnv1a(c.state) != head.checksum) {
      error = fmt::format("checkpoint {}: {} (slot {}, {} chunks, {} of {} bytes)", key,
                          whole ? "damaged: checksum mismatch" : "chunks missing", head.slot, head.chunks,
                          c.state.size(), head.bytes);
      continue;
    }
    slots_[key] = head.slot;
    out.emplace(key, std::move(c));
  }
  return out;
}

}  // namespace flowlier::transport
