#include <cstdlib>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "transport/SinkConfig.hpp"

using namespace flowlier::transport;

TEST_CASE("no [[sinks]] means no sinks and no error", "[sinks]") {
  auto r = parse_sink_configs("[window]\nseconds = 60\n", "x.toml");
  CHECK(r.error.empty());
  CHECK(r.sinks.empty());
}

TEST_CASE("every sink type parses with its keys and defaults", "[sinks]") {
  const char* text = R"([window]
seconds = 60

[[sinks]]
type = "splunk_hec"
url = "https://hec.example.com:8088"
token = "s3cret-token"
index = "netsec"
min_severity = "medium"
gzip = true

[[sinks]]
type = "sumo_logic"
url = "https://collectors.sumologic.com/receiver/v1/http/SECRETCODE"
category = "net/flowlier"
name = "flowlier"
fields = { env = "prod", team = "net" }

[[sinks]]
type = "webhook"
format = "pagerduty"
url = "https://events.pagerduty.com/v2/enqueue"
routing_key = "R0UTING"

[[sinks]]
type = "webhook"
format = "slack"
url = "https://hooks.slack.com/services/T/B/X"

[[sinks]]
type = "file"
path = "events.jsonl"
max_bytes = 4096

[[sinks]]
type = "stdout"
id = "console"
)";
  auto r = parse_sink_configs(text, "x.toml");
  REQUIRE(r.error.empty());
  REQUIRE(r.sinks.size() == 6);
  const auto& hec = r.sinks[0];
  CHECK(hec.type == SinkType::splunk_hec);
  CHECK(hec.id == "splunk_hec-0");
  CHECK(hec.token == "s3cret-token");
  CHECK(hec.sourcetype == "flowlier:anomaly");
  CHECK(hec.min_severity == SinkSeverity::medium);
  CHECK(hec.gzip);
  CHECK(hec.spool_full_policy == SpoolFullPolicy::block);
  const auto& sumo = r.sinks[1];
  CHECK(sumo.gzip);  // on by default for Sumo
  CHECK(sumo.sumo_name == "flowlier");
  CHECK(sumo.fields.at("team") == "net");
  CHECK(r.sinks[2].format == WebhookFormat::pagerduty);
  CHECK(r.sinks[2].batch_max_events == 1);
  CHECK(r.sinks[3].min_interval_ms == 1000);
  CHECK(r.sinks[4].max_bytes == 4096);
  CHECK(r.sinks[5].id == "console");
}

TEST_CASE("redacted descriptions hold no secrets", "[sinks]") {
  auto r = parse_sink_configs(R"([[sinks]]
type = "sumo_logic"
url = "https://user:pw@collectors.sumologic.com/receiver/v1/http/SECRETCODE"
[[sinks]]
type = "splunk_hec"
url = "https://hec:8088/services/collector/event"
token = "s3cret-token"
)",
                              "x.toml");
  REQUIRE(r.error.empty());
  for (const auto& s : r.sinks) {
    const auto text = s.redacted();
    CHECK(text.find("SECRETCODE") == std::string::npos);
    CHECK(text.find("pw") == std::string::npos);
    CHECK(text.find("s3cret") == std::string::npos);
  }
  CHECK(r.sinks[0].redacted() == "sumo_logic sink 'sumo_logic-0' -> https://collectors.sumologic.com/...");
}

TEST_CASE("config errors name the key and the line", "[sinks]") {
  auto unknown = parse_sink_configs("[[sinks]]\ntype = \"stdout\"\n\nbogus = 1\n", "c.toml");
  CHECK(unknown.error == "c.toml:4: unknown key 'sinks[0].bogus' for a stdout sink");
  CHECK(unknown.sinks.empty());

  auto type = parse_sink_configs("[[sinks]]\ntype = \"syslog\"\n", "c.toml");
  CHECK(type.error ==
        "c.toml:2: 'sinks[0].type' must be splunk_hec, sumo_logic, webhook, alertmanager, kafka, file or stdout");

  auto token = parse_sink_configs("[[sinks]]\ntype = \"splunk_hec\"\nurl = \"http://h\"\n", "c.toml");
  CHECK(token.error.find("exactly one of token, token_file, token_env") != std::string::npos);

  auto env = parse_sink_configs(
      "[[sinks]]\ntype = \"splunk_hec\"\nurl = \"http://h\"\ntoken_env = \"FLOWLIER_TEST_UNSET_TOKEN\"\n", "c.toml");
  CHECK(env.error == "c.toml:4: 'sinks[0].token_env' environment variable FLOWLIER_TEST_UNSET_TOKEN is not set");

  auto url = parse_sink_configs("[[sinks]]\ntype = \"webhook\"\nformat = \"json\"\nurl = \"ftp://x\"\n", "c.toml");
  CHECK(url.error == "c.toml:4: 'sinks[0].url' is required and must start with http:// or https://");

  auto pd = parse_sink_configs("[[sinks]]\ntype = \"webhook\"\nformat = \"pagerduty\"\nurl = \"http://x\"\n", "c.toml");
  CHECK(pd.error.find("routing_key") != std::string::npos);

  auto severity = parse_sink_configs("[[sinks]]\ntype = \"stdout\"\nmin_severity = \"huge\"\n", "c.toml");
  CHECK(severity.error == "c.toml:3: 'sinks[0].min_severity' must be info, low, medium, high or critical");

  auto policy = parse_sink_configs(
      "[[sinks]]\ntype = \"webhook\"\nformat = \"json\"\nurl = \"http://x\"\nspool_full_policy = \"drop_oldest\"\n",
      "c.toml");
  CHECK(policy.error == "c.toml:5: 'sinks[0].spool_full_policy' must be block or drop_newest");

  auto dup = parse_sink_configs("[[sinks]]\ntype = \"stdout\"\n[[sinks]]\ntype = \"stdout\"\nid = \"stdout-0\"\n",
                                "c.toml");
  CHECK(dup.error == "c.toml:5: 'sinks[1].id' duplicates another sink's id");

  auto negative = parse_sink_configs("[[sinks]]\ntype = \"file\"\npath = \"x\"\nmax_bytes = -5\n", "c.toml");
  CHECK(negative.error == "c.toml:4: 'sinks[0].max_bytes' must be a non-negative integer");
  auto wide = parse_sink_configs("[[sinks]]\ntype = \"file\"\npath = \"x\"\nmax_files = 4294967301\n", "c.toml");
  CHECK(wide.error == "c.toml:4: 'sinks[0].max_files' must be a non-negative integer no larger than 4294967295");

  auto not_array = parse_sink_configs("sinks = 3\n", "c.toml");
  CHECK(not_array.error == "c.toml:1: 'sinks' must be an array of tables ([[sinks]])");
}

TEST_CASE("token_env resolves the token from the environment", "[sinks]") {
  ::setenv("FLOWLIER_TEST_HEC_TOKEN", "from-env\n", 1);
  auto r = parse_sink_configs(
      "[[sinks]]\ntype = \"splunk_hec\"\nurl = \"http://h\"\ntoken_env = \"FLOWLIER_TEST_HEC_TOKEN\"\n", "c.toml");
  REQUIRE(r.error.empty());
  CHECK(r.sinks[0].token == "from-env");
}

TEST_CASE("the example configs parse", "[sinks]") {
  for (const char* name : {"splunk_hec", "sumo_logic", "webhook_alertmanager", "alertmanager", "webhook_pagerduty",
                           "webhook_slack",
                           "file", "stdout", "kafka"}) {
    ::setenv("SPLUNK_HEC_TOKEN", "example-token", 1);
    const std::string path = std::string(FLOWLIER_SOURCE_DIR) + "/examples/sinks/" + name + ".toml";
    auto r = load_sink_configs_file(path);
    INFO(path);
    CHECK(r.error.empty());
    CHECK(r.sinks.size() == 1);
  }
}

TEST_CASE("kafka sinks: brokers, topic, key, librdkafka pass-through and its secrets", "[sinks]") {
  auto r = parse_sink_configs(
      "[[sinks]]\ntype = \"kafka\"\nbrokers = \"b1:9092\"\ntopic = \"events\"\nkey = \"entity\"\n"
      "[sinks.librdkafka]\n\"linger.ms\" = 5\n\"enable.ssl.certificate.verification\" = true\n"
      "\"sasl.password\" = \"pw-secret-1\"\n",
      "c.toml");
  REQUIRE(r.error.empty());
  const auto& c = r.sinks.at(0);
  CHECK(c.type == SinkType::kafka);
  CHECK(c.id == "kafka-0");
  CHECK(c.kafka_key == KafkaKey::entity);
  CHECK(c.batch_timeout_ms == 100);
  CHECK(c.librdkafka.at("linger.ms") == "5");
  CHECK(c.librdkafka.at("enable.ssl.certificate.verification") == "true");
  CHECK(c.redacted().find("pw-secret-1") == std::string::npos);
  CHECK(c.redact("auth failed for pw-secret-1") == "auth failed for <redacted>");

  const auto error = [](const std::string& extra) {
    return parse_sink_configs("[[sinks]]\ntype = \"kafka\"\nbrokers = \"b\"\ntopic = \"t\"\n" + extra, "c.toml").error;
  };
  CHECK(error("key = \"host\"\n") == "c.toml:5: 'sinks[0].key' must be \"episode\" or \"entity\"");
  CHECK(error("url = \"http://x\"\n") == "c.toml:5: unknown key 'sinks[0].url' for a kafka sink");
  CHECK(error("[sinks.librdkafka]\nacks = \"1\"\n").find("'acks' is set by flowlier") != std::string::npos);
  CHECK(error("[sinks.librdkafka]\n\"linger.ms\" = 1.5\n").find("'sinks[0].librdkafka.linger.ms' must be a string, integer or boolean") != std::string::npos);
  CHECK(parse_sink_configs("[[sinks]]\ntype = \"kafka\"\ntopic = \"t\"\n", "c.toml").error.find(
            "'sinks[0].brokers' is required") != std::string::npos);
}

TEST_CASE("alertmanager sinks: one url or an HA pair, horizon, errors", "[sinks]") {
  auto one = parse_sink_configs("[[sinks]]\ntype = \"alertmanager\"\nurl = \"http://127.0.0.1:9093\"\n", "c.toml");
  REQUIRE(one.error.empty());
  REQUIRE(one.sinks.size() == 1);
  CHECK(one.sinks[0].type == SinkType::alertmanager);
  CHECK(one.sinks[0].id == "alertmanager-0");
  CHECK(one.sinks[0].urls == std::vector<std::string>{"http://127.0.0.1:9093"});
  CHECK(one.sinks[0].resend_horizon_seconds == 600);
  CHECK(one.sinks[0].resend_interval_seconds == 60);

  auto pair = parse_sink_configs(
      "[[sinks]]\ntype = \"alertmanager\"\nurls = [\"http://am1:9093\", \"https://u:pw@am2:9093\"]\n"
      "resend_horizon_seconds = 300\ngenerator_url = \"https://g/\"\n",
      "c.toml");
  REQUIRE(pair.error.empty());
  const auto& c = pair.sinks[0];
  CHECK(c.urls.size() == 2);
  CHECK(c.url == "http://am1:9093");
  CHECK(c.resend_horizon_seconds == 300);
  CHECK(c.generator_url == "https://g/");
  CHECK(c.redacted().find("pw") == std::string::npos);
  CHECK(c.redacted().find("am2:9093") != std::string::npos);

  auto both = parse_sink_configs(
      "[[sinks]]\ntype = \"alertmanager\"\nurl = \"http://a\"\nurls = [\"http://b\"]\n", "c.toml");
  CHECK(both.error == "c.toml:4: 'sinks[0].urls' and 'url' exclude each other");
  auto bad = parse_sink_configs("[[sinks]]\ntype = \"alertmanager\"\nurls = [\"http://a\", 3]\n", "c.toml");
  CHECK(bad.error == "c.toml:3: 'sinks[0].urls' must be an array of strings");
  auto scheme = parse_sink_configs("[[sinks]]\ntype = \"alertmanager\"\nurls = [\"am:9093\"]\n", "c.toml");
  CHECK(scheme.error == "c.toml:3: 'sinks[0].urls' must start with http:// or https://");
  auto none = parse_sink_configs("[[sinks]]\ntype = \"alertmanager\"\n", "c.toml");
  CHECK(none.error == "c.toml:1: 'sinks[0].url' is required and must start with http:// or https://");
  auto horizon = parse_sink_configs(
      "[[sinks]]\ntype = \"alertmanager\"\nurl = \"http://a\"\nresend_horizon_seconds = 100\n", "c.toml");
  CHECK(horizon.error == "c.toml:4: 'sinks[0].resend_horizon_seconds' must be at least twice resend_interval_seconds");
  auto no_resend = parse_sink_configs("[[sinks]]\ntype = \"alertmanager\"\nurl = \"http://a\"\n"
                                      "resend_horizon_seconds = 100\nresend_interval_seconds = 0\n", "c.toml");
  CHECK(no_resend.error.empty());
  auto zero = parse_sink_configs(
      "[[sinks]]\ntype = \"alertmanager\"\nurl = \"http://a\"\nresend_horizon_seconds = 0\n", "c.toml");
  CHECK(zero.error == "c.toml:4: 'sinks[0].resend_horizon_seconds' must be at least 1");
}

TEST_CASE("the default spool directory is under the state directory, never the working one", "[sinks]") {
  // Restores the variables it changes, whatever the outcome.
  struct Env {
    std::string name;
    std::optional<std::string> saved;
    explicit Env(std::string n) : name(std::move(n)) {
      if (const char* v = std::getenv(name.c_str())) saved = v;
    }
    ~Env() { saved ? setenv(name.c_str(), saved->c_str(), 1) : unsetenv(name.c_str()); }
  };
  Env state("STATE_DIRECTORY"), xdg("XDG_STATE_HOME"), home("HOME");
  unsetenv("STATE_DIRECTORY");
  unsetenv("XDG_STATE_HOME");
  setenv("HOME", "/home/op", 1);
  CHECK(default_spool_dir("/var/lib/flowlier/state.bin") == "/var/lib/flowlier/spool");
  CHECK(default_spool_dir("state.bin") == "./spool");
  CHECK(default_spool_dir("") == "/home/op/.local/state/flowlier/spool");
  setenv("XDG_STATE_HOME", "/xdg", 1);
  CHECK(default_spool_dir("") == "/xdg/flowlier/spool");
  setenv("STATE_DIRECTORY", "/var/lib/flowlier:/var/lib/other", 1);
  CHECK(default_spool_dir("/elsewhere/state.bin") == "/var/lib/flowlier/spool");
  // Parsed configs leave it unset, for the caller that knows the state path.
  auto r = parse_sink_configs("[[sinks]]\ntype = \"webhook\"\nformat = \"json\"\nurl = \"http://x\"\n", "c.toml");
  REQUIRE(r.error.empty());
  CHECK(r.sinks[0].spool_dir.empty());
}
