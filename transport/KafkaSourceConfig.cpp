#include "transport/KafkaSourceConfig.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "transport/KafkaProperties.hpp"

namespace flowlier::transport {
namespace {

class Reader {
 public:
  Reader(const toml::table& table, const std::string& source) : table_(table), source_(source) {}

  const toml::node* node(std::string_view key) {
    seen_.insert(std::string(key));
    return error_.empty() ? table_.get(key) : nullptr;
  }
  void get(std::string_view key, std::string& out) {
    if (const auto* n = node(key)) {
      if (auto v = n->value<std::string>()) out = *v;
      else fail(*n, key, "must be a string");
    }
  }
  void get(std::string_view key, double& out) {
    if (const auto* n = node(key)) {
      if (auto v = n->value<double>(); v && *v > 0) out = *v;
      else fail(*n, key, "must be a positive number");
    }
  }
  void get(std::string_view key, std::size_t& out) {
    if (const auto* n = node(key)) {
      if (auto v = n->value<std::int64_t>(); v && *v > 0) out = static_cast<std::size_t>(*v);
      else fail(*n, key, "must be a positive integer");
    }
  }
  void get(std::string_view key, std::vector<std::string>& out) {
    const auto* n = node(key);
    if (!n) return;
    const auto* a = n->as_array();
    if (!a) return fail(*n, key, "must be an array of strings");
    for (const auto& v : *a) {
      auto s = v.value<std::string>();
      if (!s) return fail(v, key, "must be an array of strings");
      out.push_back(*s);
    }
  }
  void get(std::string_view key, std::map<std::string, std::string>& out) {
    const auto* n = node(key);
    if (!n) return;
    const auto* t = n->as_table();
    if (!t) return fail(*n, key, "must be a table of strings");
    for (const auto& [k, v] : *t) {
      if (auto text = kafka_property_text(v)) out[std::string(k.str())] = *text;
      else return fail(v, std::string(key) + "." + std::string(k.str()), "must be a string, integer or boolean");
    }
  }
  void require(std::string_view key, bool ok, std::string_view why) {
    if (!ok && error_.empty()) fail_at(table_.source().begin.line, key, why);
  }
  void reject_unknown() {
    for (const auto& [k, v] : table_) {
      if (!seen_.count(std::string(k.str()))) return fail(v, k.str(), "is not a known key");
    }
  }
  const std::string& error() const { return error_; }

 private:
  void fail(const toml::node& n, std::string_view key, std::string_view why) { fail_at(n.source().begin.line, key, why); }
  void fail_at(std::uint32_t line, std::string_view key, std::string_view why) {
    if (error_.empty()) error_ = fmt::format("{}:{}: 'source.kafka.{}' {}", source_, line, key, why);
  }
  const toml::table& table_;
  const std::string& source_;
  std::set<std::string> seen_;
  std::string error_;
};

}  // namespace

KafkaSourceConfigResult parse_kafka_source_config(const std::string& text, const std::string& source) {
  KafkaSourceConfigResult result;
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    result.error = fmt::format("{}:{}: {}", source, e.source().begin.line, e.description());
    return result;
  }
  const auto* table = root.at_path("source.kafka").as_table();
  if (!table) {
    if (const auto* n = root.at_path("source.kafka").node())
      result.error = fmt::format("{}:{}: 'source.kafka' must be a table", source, n->source().begin.line);
    return result;
  }
  KafkaSourceConfig c;
  Reader r(*table, source);
  r.get("brokers", c.brokers);
  r.get("topics", c.topics);
  r.get("group_id", c.group_id);
  r.get("format", c.format);
  r.get("assignor", c.assignor);
  r.get("state_topic", c.state_topic);
  r.get("checkpoint_interval_seconds", c.checkpoint_interval_seconds);
  r.get("checkpoint_chunk_bytes", c.checkpoint_chunk_bytes);
  r.get("librdkafka", c.librdkafka);
  r.require("brokers", !c.brokers.empty(), "is required");
  r.require("topics", !c.topics.empty(), "must name at least one topic");
  r.require("group_id", !c.group_id.empty(), "is required");
  r.require("state_topic", !c.state_topic.empty(), "must not be empty");
  r.require("assignor", c.assignor == "range" || c.assignor == "roundrobin",
            "must be \"range\" or \"roundrobin\" (eager: the cooperative assignor of librdkafka 2.0 is not used)");
  // These carry flowlier's offset and rebalance discipline: set by their own keys only.
  for (const char* owned : {"partition.assignment.strategy", "group.id", "enable.auto.commit",
                            "enable.auto.offset.store", "bootstrap.servers"}) {
    r.require(std::string("librdkafka.") + owned, !c.librdkafka.count(owned),
              "is set by flowlier (see source.kafka.assignor, group_id, brokers)");
  }
  r.reject_unknown();
  result.error = r.error();
  if (result.error.empty()) result.config = std::move(c);
  return result;
}

KafkaSourceConfigResult load_kafka_source_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    KafkaSourceConfigResult result;
    result.error = fmt::format("{}: cannot read the config file", path);
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_kafka_source_config(text.str(), path);
}

}  // namespace flowlier::transport
