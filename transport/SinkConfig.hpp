#pragma once
// The [[sinks]] array of the flowlier TOML config: one table per sink, validated
// at start-up (unknown keys and bad values are errors naming the key and line).
// Secrets (tokens, Sumo URLs, PagerDuty routing keys) are kept here but never
// printed: use redacted() for logs.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/ConfigDocument.hpp"
#include "transport/SinkEvent.hpp"

namespace flowlier::transport {

enum class SinkType : std::uint8_t { splunk_hec, sumo_logic, webhook, file, stdout_, alertmanager, kafka };
enum class WebhookFormat : std::uint8_t { alertmanager, pagerduty, slack, json };
enum class SpoolFullPolicy : std::uint8_t { block, drop_newest };
// kafka: what a message is keyed by (so one episode, or one entity, stays in one partition).
enum class KafkaKey : std::uint8_t { episode, entity };

const char* to_string(SinkType);
const char* to_string(WebhookFormat);
const char* to_string(KafkaKey);

struct SinkConfig {
  SinkType type = SinkType::stdout_;
  std::string id;  // "id" key, default "<type>-<index>"; names the spool subdirectory and the counters
  SinkSeverity min_severity = SinkSeverity::info;

  // HTTP sinks.
  std::string url;    // splunk_hec: base URL or full endpoint; sumo: the secret collector URL
  std::string token;  // splunk_hec: resolved from token / token_file / token_env
  std::string index, source, sourcetype = "flowlier:anomaly", host;
  bool gzip = false;  // splunk_hec: off by default; sumo_logic: on by default
  bool ack = false;   // splunk_hec indexer acknowledgement (channel + /services/collector/ack)
  std::string category;                       // sumo X-Sumo-Category
  std::string sumo_name;                      // sumo "name" key: X-Sumo-Name
  std::map<std::string, std::string> fields;  // sumo X-Sumo-Fields
  WebhookFormat format = WebhookFormat::json;
  std::string routing_key;  // pagerduty
  std::uint32_t min_interval_ms = 0;  // slack: 1000 by default (Slack allows about 1 message/s)
  std::uint32_t timeout_ms = 10000;
  // alertmanager: every Alertmanager of an HA pair gets each batch (`urls`, or `url` for
  // one; the first is also in `url`); a batch counts as delivered when one accepts it.
  std::vector<std::string> urls;
  // alertmanager: a firing event's endsAt = send time + this horizon, so Alertmanager
  // keeps the alert firing that long without news; the resolution event ends it.
  std::uint32_t resend_horizon_seconds = 600;
  // alertmanager: open (firing, delivered, not yet resolved) episodes are posted again
  // this often, renewing endsAt, as Prometheus does; 0 = never.
  std::uint32_t resend_interval_seconds = 60;
  std::string generator_url;  // alertmanager: generatorURL of every alert ("" = none)

  // Batching.
  std::uint32_t batch_max_events = 500;
  std::uint32_t batch_max_bytes = 1000000;
  std::uint32_t batch_timeout_ms = 1000;

  // Retry.
  std::uint32_t max_retries = 0;  // 0 = retry forever (nothing is dropped); otherwise dead-letter after it
  std::uint32_t backoff_initial_ms = 500;
  std::uint32_t backoff_max_ms = 30000;
  std::uint32_t auth_retry_ms = 60000;  // 401/403: slow retry, the operator must fix the config

  // Spool.
  // Each sink spools under <spool_dir>/<id>; empty: default_spool_dir(), never the
  // working directory (a run must not leave spool/ wherever it was started).
  std::string spool_dir;
  std::uint64_t spool_max_bytes = 256ull << 20;
  SpoolFullPolicy spool_full_policy = SpoolFullPolicy::block;

  // file sink.
  std::string path;
  std::uint64_t max_bytes = 100ull << 20;  // rotate to path.1 .. path.<max_files>
  std::uint32_t max_files = 5;

  // kafka sink: an idempotent producer to `topic`, messages keyed by `kafka_key`; the
  // librdkafka properties are passed through (they may hold secrets: never printed).
  std::string brokers;
  std::string topic;
  KafkaKey kafka_key = KafkaKey::episode;  // "key" key
  std::map<std::string, std::string> librdkafka;

  // For logs: type, name, URL host only, no token, no secret URL path.
  std::string redacted() const;
  // Every configured secret: the token, the routing key, URL credentials and, for
  // sumo_logic and webhook sinks, the URL's path and query (their URL is the secret).
  std::vector<std::string> secrets() const;
  // `text` with every secret (also JSON-escaped) replaced by "<redacted>": for anything
  // logged, stored (dead letters) or exported (metrics) that may quote a receiver.
  std::string redact(std::string text) const;
};

struct SinkConfigResult {
  std::vector<SinkConfig> sinks;
  std::string error;  // empty when valid: "<source>:<line>: ..."
};

// `text` is the whole flowlier config; only its `sinks` key is read (absent = no sinks).
// token_env is read with getenv; token_file relative to the current directory.
[[nodiscard]] SinkConfigResult read_sink_configs(const core::ConfigDocument& document);
[[nodiscard]] SinkConfigResult parse_sink_configs(const std::string& text, const std::string& source);
[[nodiscard]] SinkConfigResult load_sink_configs_file(const std::string& path);

// Where sinks spool when spool_dir is not set: under the state directory, i.e. systemd's
// StateDirectory= ($STATE_DIRECTORY), else the directory of `state_path` (state.path),
// else $XDG_STATE_HOME/flowlier (~/.local/state/flowlier), each with /spool appended.
std::string default_spool_dir(const std::string& state_path);

}  // namespace flowlier::transport
