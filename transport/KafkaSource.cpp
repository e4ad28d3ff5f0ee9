#include "transport/KafkaSource.hpp"

#include <librdkafka/rdkafka.h>

#include <fmt/format.h>

#include "transport/KafkaProperties.hpp"

namespace flowlier::transport {

struct KafkaSourceCallbacks {
  static void rebalance(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                        void* opaque) {
    static_cast<KafkaSource*>(opaque)->rebalance(err, partitions);
  }
};

namespace {
std::vector<KafkaPartition> to_partitions(const rd_kafka_topic_partition_list_t* list) {
  std::vector<KafkaPartition> out;
  for (int i = 0; i < list->cnt; ++i) out.push_back({list->elems[i].topic, list->elems[i].partition});
  return out;
}
}  // namespace

std::unique_ptr<KafkaSource> KafkaSource::open(const KafkaSourceConfig& config, KafkaRebalanceListener& listener,
                                               std::string& error) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char why[512];
  // Ours first, so the pass-through may tune anything but the offset discipline below.
  rd_kafka_conf_set(conf, "group.id", config.group_id.c_str(), why, sizeof why);
  rd_kafka_conf_set(conf, "partition.assignment.strategy", config.assignor.c_str(), why, sizeof why);
  rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", why, sizeof why);
  error = apply_kafka_properties(conf, config.brokers, config.librdkafka, "source.kafka.librdkafka");
  // Offsets move only when a checkpoint covers them (commit()).
  for (const char* name : {"enable.auto.commit", "enable.auto.offset.store"}) {
    if (error.empty() && rd_kafka_conf_set(conf, name, "false", why, sizeof why) != RD_KAFKA_CONF_OK) error = why;
  }
  if (!error.empty()) {
    rd_kafka_conf_destroy(conf);
    return nullptr;
  }
  rd_kafka_conf_set_rebalance_cb(conf, &KafkaSourceCallbacks::rebalance);
  // The opaque must exist before rd_kafka_new (it may call back during subscribe).
  std::unique_ptr<KafkaSource> source(new KafkaSource(nullptr, listener));
  rd_kafka_conf_set_opaque(conf, source.get());
  rd_kafka_t* handle = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
  if (!handle) {
    rd_kafka_conf_destroy(conf);
    error = fmt::format("cannot create the Kafka consumer: {}", why);
    return nullptr;
  }
  source->handle_ = handle;
  rd_kafka_poll_set_consumer(handle);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(static_cast<int>(config.topics.size()));
  for (const auto& topic : config.topics) rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t err = rd_kafka_subscribe(handle, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (err) {
    error = fmt::format("cannot subscribe: {}", rd_kafka_err2str(err));
    return nullptr;
  }
  return source;
}

KafkaSource::KafkaSource(rd_kafka_s* handle, KafkaRebalanceListener& listener) : handle_(handle), listener_(listener) {}

KafkaSource::~KafkaSource() {
  if (!handle_) return;
  close();
  rd_kafka_destroy(handle_);
}

void KafkaSource::rebalance(int err, void* partitions_pointer) {
  auto* list = static_cast<rd_kafka_topic_partition_list_t*>(partitions_pointer);
  ++rebalances_;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    const auto starts = listener_.on_assigned(to_partitions(list));
    for (int i = 0; i < list->cnt; ++i) {
      const auto it = starts.find({list->elems[i].topic, list->elems[i].partition});
      // The checkpoint's offset is the seek: the state covers everything before it.
      list->elems[i].offset = it != starts.end() && it->second >= 0 ? it->second : RD_KAFKA_OFFSET_STORED;
    }
    rd_kafka_assign(handle_, list);
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) listener_.on_revoked(to_partitions(list));
  else ++errors_;
  rd_kafka_assign(handle_, nullptr);
}

std::size_t KafkaSource::poll(std::chrono::milliseconds timeout, std::size_t max_messages,
                              const std::function<void(const KafkaMessage&)>& on_message) {
  std::size_t handed = 0;
  auto wait = static_cast<int>(timeout.count());
  while (handed < max_messages) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(handle_, wait);
    if (!m) break;
    wait = 0;  // take what is already fetched, but wait only once
    if (m->err) {
      // End of partition is information, not an error; the rest are counted and
      // retried by librdkafka itself.
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) ++errors_;
      rd_kafka_message_destroy(m);
      continue;
    }
    const char* topic = rd_kafka_topic_name(m->rkt);
    auto key = std::make_pair(std::string(topic), m->partition);
    auto it = names_.find(key);
    if (it == names_.end()) it = names_.emplace(key, KafkaPartition{key.first, key.second}).first;
    on_message({&it->second, m->offset, {static_cast<const char*>(m->payload), m->len}});
    rd_kafka_message_destroy(m);
    ++handed;
  }
  return handed;
}

std::string KafkaSource::commit(const std::map<KafkaPartition, std::int64_t>& offsets) {
  if (offsets.empty()) return {};
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (const auto& [p, offset] : offsets) rd_kafka_topic_partition_list_add(list, p.topic.c_str(), p.partition)->offset = offset;
  const rd_kafka_resp_err_t err = rd_kafka_commit(handle_, list, 0);
  std::string error;
  if (err) error = fmt::format("offset commit failed: {}", rd_kafka_err2str(err));
  for (int i = 0; error.empty() && i < list->cnt; ++i) {
    if (list->elems[i].err) error = fmt::format("offset commit of {}/{} failed: {}", list->elems[i].topic,
                                                list->elems[i].partition, rd_kafka_err2str(list->elems[i].err));
  }
  rd_kafka_topic_partition_list_destroy(list);
  return error;
}

std::int64_t KafkaSource::lag(const KafkaPartition& partition, std::int64_t next_offset) const {
  std::int64_t low = 0, high = 0;
  if (rd_kafka_get_watermark_offsets(handle_, partition.topic.c_str(), partition.partition, &low, &high) ||
      high < 0 || next_offset < 0) {
    return 0;
  }
  return std::max<std::int64_t>(0, high - std::max(next_offset, low));
}

void KafkaSource::close() {
  if (closed_ || !handle_) return;
  closed_ = true;
  rd_kafka_consumer_close(handle_);  // runs the revoke callback
}

}  // namespace flowlier::transport
