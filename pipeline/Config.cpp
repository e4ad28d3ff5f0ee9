#include "pipeline/Config.hpp"

#include <charconv>

#include <fmt/format.h>

#include "core/TomlReader.hpp"

namespace flowlier::pipeline {

namespace {
constexpr const char* kDefaults = R"(# flowlier configuration. Every key is optional; these are the defaults.

[input]
format = "auto"            # auto, aws, aws-cloudwatch, aws-firehose, gcp, azure-nsg, azure-vnet
aws_format = ""            # AWS field list for lines without a header; "" = the version-2 default
max_line_bytes = 1048576   # longer text lines are rejected (line_too_long)
max_document_bytes = 268435456  # larger JSON documents are rejected; run: a larger ZeroMQ message disconnects its sender

[window]
seconds = 60                    # tumbling event-time windows
allowed_lateness_seconds = 120  # windows close when the newest record is this much past their end

[entities]
kinds = ["interface", "address"]  # also: srcaddr, dstaddr, subnet, vpc, account, service-port
internal_networks = []            # CIDRs counted as internal besides RFC 1918, ULA, CGNAT, link-local
max_entities = 1000000            # per scorer; least recently seen idle entities are evicted beyond it
idle_ttl_seconds = 604800         # an entity silent this long is forgotten

[detectors]
model = "flowlier"                # or "trailing-outlier": mean +- k sigma over the last N windows (comparisons)
count_clip_sigma = 3.0            # a window's count enters the baseline clipped at this many spreads
evidence_power = 3.0              # no p below (windows of history + 1)^-3: what a history can vouch for

[detectors.trailing_outlier]      # only with model = "trailing-outlier" (Sumo Logic's outlier operator)
window = 10
threshold_sigma = 3.0

[detectors.volume]                # volumes (packets, bytes): how often active, and how much when active
activity_half_life_windows = 1440.0  # the activity rate remembers about a day of windows
level_half_life_windows = 30.0    # active windows: the level follows the daily cycle...
spread_half_life_windows = 720.0  # ...judged against the spread of about a day
min_active_windows = 20           # warming up (no alerts) before this many active windows
tail_dof = 10.0                   # prior Student-t dof of log magnitudes; each entity learns its own (3-30)
tail_prior_windows = 1440.0       # the prior dof is worth this many active windows (about a day)
min_dof = 3.0                     # the learnt dof stays within [min_dof, max_dof]
max_dof = 30.0
min_std = 0.25                    # log-space spread floor: volumes always vary by ~25%
clip_sigma = 3.0                  # one window moves the baseline by at most this many spreads
band_sigma = 3.0
check_level = 0.001               # self-check: p below this should happen this often, no more

[detectors.count]                 # counts (flows, distinct peers/ports, rejects, external flows)
half_life_windows = 30.0
variance_half_life_windows = 720.0
min_windows = 30
prior_mean = 0.5
min_dispersion = 10.0             # variance >= m + m^2/10: counts are burstier than Poisson

[detectors.rarity]                # first-seen peers and ports
min_windows = 30
max_concentration = 5000.0

[detectors.beacon]                # periodic check-ins to a new external peer (command and control)
enabled = true
contact_gap_seconds = 30          # flows to the peer closer than this are one check-in
min_intervals = 5                 # no evidence before this many intervals between check-ins
novelty_evidence = 0.05           # kept only if the first contact's window was this improbable in novelty

[detectors.sustained]             # evidence over the windows after a first contact on a new port
max_windows = 10                  # later windows combined (Fisher); each look is corrected for

[detectors.peers]                 # young addresses judged by their subnet's peers (/24, /64)
enabled = true
min_members = 5                   # hosts of the subnet that describe it; fewer: not judged
contribute_after = 240            # a host's windows describe its subnet once it has this many
judge_until = 600                 # judged by peers while its own baseline has fewer windows

[detectors.isolation]             # half-space trees over each entity kind's population
enabled = false                   # off by default: it pages only below min_alert_score
trees = 25
depth = 10
window_size = 256
seed = 42
min_alert_score = 101.0           # > 100: explains, never pages on its own

[scoring]
multiplicity = 14.0   # features tested per window (Bonferroni)
decades = 12.0        # -log10 of the adjusted tail probability that scores 100
low = 50.0
medium = 60.0
high = 75.0
critical = 90.0

[episodes]
open_score = 50.0     # a window scoring this opens an episode (p * multiplicity <= 1e-6: p * 14 by default)
keep_score = 30.0     # while open, windows scoring this keep it open
quiet_windows = 5     # resolved after this many windows below keep_score

[limits]
max_memory = 1073741824           # bytes for the entity tables of all engines (0 = only max_entities); beyond it,
                                  # idle entities are evicted, then new entities refused (counted)

[state]
path = ""                         # snapshot file for `run`; "" = none
snapshot_interval_seconds = 300

[endpoints]
flows_in = "tcp://127.0.0.1:7701"
events_out = "tcp://127.0.0.1:7702"
metrics = "127.0.0.1:9477"        # `run`: GET /metrics, /healthz, /readyz and the JSON API: /api/v1/episodes?status=open,
                                  # /api/v1/entities/{kind}/{id} (baseline, recent_windows, open episodes; README)

[service]                 # `run`; command-line options override these
role = "single"           # single | ingest | score | publish (one stage of a sharded deployment)
scoring_threads = 0       # single: parallel scoring engines, each owning a shard of the entities; 0 = one per core (max 8)
hwm = 1000                # high-water mark of every socket, in messages
idle_seconds = 30.0       # no records this long: event time follows the wall clock (0 = never)
listen = ""               # score / publish: endpoint bound for the stage upstream
publish_to = ""           # score: the publisher's listen endpoint
shards = []               # ingest: the scorers' listen endpoints, in shard order
shard_index = 0           # score: this scorer's shard, 0-based
shard_count = 1           # score: number of scorers
rejects_file = ""         # single / ingest: every rejected live record (source, reason, raw) as JSON Lines; "" = counted only
rejects_max_bytes = 104857600  # the rejects file rotates to .1 .. .<rejects_max_files> beyond this, like the file sink
rejects_max_files = 5

[security]                # CURVE on every tcp endpoint of `run` (key files from `flowlier keygen`)
curve_secret_key_file = ""  # this process's secret key; set = CURVE on
curve_allow_file = ""       # client public keys admitted (one per line); required with a secret key
curve_peer_file = ""        # ingest / score: public key of the server(s) connected to (one, or one per shard)

# Operator rules, none by default (README "Rules"). The first matching rule that
# has not expired acts on each finding that would open or keep an episode. `run` reloads
# them on SIGHUP. Conditions are optional, all must hold; a list holds when any item does.
# [[rules]]
# name = "offsite-backup"        # unique (letters, digits, _.:-); default rule-N; labels /metrics and the event
# reason = "nightly backup"      # required
# action = "downgrade"           # suppress (no event, no episode) | downgrade | tag (event kept, says the rule)
# severity = "low"               # downgrade only: the severity events get
# expires = "2027-01-31T00:00:00Z"  # RFC 3339, judged at event time; then reported once and ignored
# entity = ["10.0.2.0/24", "eni-0a1b2c3d"]  # entity ids or CIDRs (the incident's interface or address)
# entity_kind = ["interface", "address"]
# peer = ["198.51.100.0/24"]     # a peer, new peer or source contributor within
# port = [22, "tcp/443"]         # a port or new port contributor
# protocol = ["tcp"]
# category = ["exfiltration"]    # port-scan, sweep, ddos, exfiltration, beaconing, brute-force, reject-storm ...
# detector = ["sustained"]       # count, volume, rare, sustained, beacon, isolation ...
# feature = ["bytes_out"]
# min_severity = "low"           # the finding's severity at least this
)";
}  // namespace

const char* default_config_text() { return kDefaults; }

std::string zmq_endpoint_error(std::string_view endpoint, bool bind) {
  const auto fail = [&](std::string_view why) {
    return fmt::format("'{}' is not a ZeroMQ endpoint: {}", endpoint, why);
  };
  const auto scheme_end = endpoint.find("://");
  if (scheme_end == std::string_view::npos) return fail("expected tcp://HOST:PORT, ipc://PATH or inproc://NAME");
  const std::string_view scheme = endpoint.substr(0, scheme_end);
  const std::string_view address = endpoint.substr(scheme_end + 3);
  if (scheme == "ipc" || scheme == "inproc") return address.empty() ? fail("the name is empty") : std::string();
  if (scheme != "tcp") return fail(fmt::format("unknown transport '{}' (tcp, ipc or inproc)", scheme));
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return fail("expected tcp://HOST:PORT");
  const std::string_view port = address.substr(colon + 1);
  if (port == "*" && bind) return {};  // any free port
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535 || (!bind && value == 0)) {
    return fail(fmt::format("port '{}' is not a number from {} to 65535{}", port, bind ? 0 : 1, bind ? " or *" : ""));
  }
  return {};
}

ConfigResult read_config(const core::ConfigDocument& document) {
  ConfigResult result;
  core::TomlReader r(document);
  Config& c = result.config;
  c.document = document;
  auto& e = c.engine;

  r.get("input.format", c.input_format);
  r.check(c.input_format == "auto" || parse_input_format(c.input_format).has_value(), "input.format",
          "names no supported format");
  r.get("input.aws_format", c.decoder.aws_fields);
  r.get("input.max_line_bytes", c.decoder.max_line_bytes);
  r.get("input.max_document_bytes", c.decoder.max_document_bytes);
  r.check(c.decoder.max_document_bytes >= 1024, "input.max_document_bytes", "must be at least 1024");

  r.get("window.seconds", e.windows.window_seconds);
  r.check(e.windows.window_seconds >= 1 && e.windows.window_seconds <= 86400, "window.seconds",
          "must be between 1 and 86400");
  r.get("window.allowed_lateness_seconds", e.windows.allowed_lateness_seconds);

  std::vector<std::string> kinds;
  r.get("entities.kinds", kinds);
  if (!kinds.empty()) {
    e.router.kinds.clear();
    for (const auto& k : kinds) {
      auto kind = models::parse_entity_kind(k);
      r.check(kind.has_value(), "entities.kinds", fmt::format("names an unknown entity kind '{}'", k));
      if (kind) e.router.kinds.push_back(*kind);
    }
  }
  std::vector<std::string> networks;
  r.get("entities.internal_networks", networks);
  for (const auto& n : networks) {
    auto cidr = Cidr::parse(n);
    r.check(cidr.has_value(), "entities.internal_networks", fmt::format("holds '{}', which is not a CIDR", n));
    if (cidr) e.router.internal_networks.push_back(*cidr);
  }
  r.get("entities.max_entities", e.windows.max_entities);
  r.check(e.windows.max_entities >= 1, "entities.max_entities", "must be at least 1");
  r.get("entities.idle_ttl_seconds", e.windows.idle_ttl_seconds);

  auto& b = e.baseline;
  r.get("detectors.count_clip_sigma", b.count_clip_sigma);
  r.get("detectors.evidence_power", b.evidence_power);
  r.check(b.evidence_power >= 1, "detectors.evidence_power", "must be >= 1");
  r.check(b.count_clip_sigma > 0, "detectors.count_clip_sigma", "must be > 0");
  std::string model = "flowlier";
  r.get("detectors.model", model);
  r.check(model == "flowlier" || model == "trailing-outlier", "detectors.model",
          "must be \"flowlier\" or \"trailing-outlier\"");
  e.model = model == "trailing-outlier" ? BaselineModel::trailing_outlier : BaselineModel::flowlier;
  r.get("detectors.trailing_outlier.window", e.outlier.window);
  r.get("detectors.trailing_outlier.threshold_sigma", e.outlier.band_sigma);
  e.outlier.min_samples = e.outlier.window;
  r.check(e.outlier.validate().empty(), "detectors.trailing_outlier", e.outlier.validate());
  r.get("detectors.volume.activity_half_life_windows", b.volume.activity_half_life);
  r.get("detectors.volume.level_half_life_windows", b.volume.level_half_life);
  r.get("detectors.volume.spread_half_life_windows", b.volume.spread_half_life);
  r.get("detectors.volume.min_active_windows", b.volume.min_active);
  r.get("detectors.volume.tail_dof", b.volume.tail_dof);
  r.get("detectors.volume.tail_prior_windows", b.volume.tail_prior_windows);
  r.get("detectors.volume.min_dof", b.volume.min_dof);
  r.get("detectors.volume.max_dof", b.volume.max_dof);
  r.get("detectors.volume.min_std", b.volume.min_std);
  r.get("detectors.volume.clip_sigma", b.volume.clip_sigma);
  r.get("detectors.volume.band_sigma", b.volume.band_sigma);
  r.get("detectors.volume.check_level", b.volume.check.level);
  r.check(b.volume.validate().empty(), "detectors.volume", b.volume.validate());
  r.get("detectors.count.half_life_windows", b.counts.half_life);
  r.get("detectors.count.variance_half_life_windows", b.counts.variance_half_life);
  r.get("detectors.count.min_windows", b.counts.min_samples);
  r.get("detectors.count.prior_mean", b.counts.prior_mean);
  r.get("detectors.count.min_dispersion", b.counts.min_dispersion);
  r.check(b.counts.validate().empty(), "detectors.count", b.counts.validate());
  r.get("detectors.rarity.min_windows", b.rarity.min_windows);
  r.get("detectors.rarity.max_concentration", b.rarity.max_concentration);
  r.check(b.rarity.validate().empty(), "detectors.rarity", b.rarity.validate());
  r.get("detectors.beacon.enabled", e.beacon.enabled);
  r.get("detectors.beacon.contact_gap_seconds", e.beacon.contact_gap_seconds);
  r.get("detectors.beacon.min_intervals", e.beacon.min_intervals);
  r.get("detectors.beacon.novelty_evidence", e.beacon.novelty_evidence);
  r.check(e.beacon.validate().empty(), "detectors.beacon", e.beacon.validate());
  r.get("detectors.sustained.max_windows", e.sustained.max_windows);
  r.check(e.sustained.max_windows >= 1 && e.sustained.max_windows <= 1000, "detectors.sustained",
          "max_windows must be 1 to 1000");
  r.get("detectors.peers.enabled", e.peers.enabled);
  r.get("detectors.peers.min_members", e.peers.min_members);
  r.get("detectors.peers.contribute_after", e.peers.contribute_after);
  r.get("detectors.peers.judge_until", e.peers.judge_until);
  r.check(e.peers.min_members >= 2, "detectors.peers", "min_members must be at least 2");
  auto& iso = e.isolation;
  r.get("detectors.isolation.enabled", iso.enabled);
  r.get("detectors.isolation.trees", iso.trees.trees);
  r.get("detectors.isolation.depth", iso.trees.depth);
  r.get("detectors.isolation.window_size", iso.trees.window_size);
  r.get("detectors.isolation.seed", iso.trees.seed);
  r.get("detectors.isolation.min_alert_score", iso.min_alert_score);
  r.check(iso.trees.validate().empty(), "detectors.isolation", iso.trees.validate());

  r.get("scoring.multiplicity", e.scoring.multiplicity);
  r.get("scoring.decades", e.scoring.decades);
  r.get("scoring.low", e.scoring.low);
  r.get("scoring.medium", e.scoring.medium);
  r.get("scoring.high", e.scoring.high);
  r.get("scoring.critical", e.scoring.critical);
  r.check(e.scoring.multiplicity >= 1 && e.scoring.decades > 0, "scoring", "needs multiplicity >= 1 and decades > 0");
  {
    // Severity is the highest threshold a score reaches: out of order, a 75.9 would be "critical".
    const auto& t = e.scoring;
    r.check(t.low < t.medium && t.medium < t.high && t.high < t.critical, "scoring",
            fmt::format("thresholds must be ordered low < medium < high < critical (low = {}, medium = {}, high = {}, "
                        "critical = {})",
                        t.low, t.medium, t.high, t.critical));
  }

  r.get("episodes.open_score", e.episodes.open_score);
  r.get("episodes.keep_score", e.episodes.keep_score);
  r.get("episodes.quiet_windows", e.episodes.quiet_windows);
  r.check(e.episodes.keep_score <= e.episodes.open_score, "episodes.keep_score", "must not exceed open_score");

  r.get("state.path", c.state.path);
  r.get("state.snapshot_interval_seconds", c.state.snapshot_interval_seconds);
  r.get("endpoints.flows_in", c.endpoints.flows_in);
  r.get("endpoints.events_out", c.endpoints.events_out);
  r.get("endpoints.metrics", c.endpoints.metrics);
  r.check(zmq_endpoint_error(c.endpoints.flows_in, true).empty(), "endpoints.flows_in",
          zmq_endpoint_error(c.endpoints.flows_in, true));
  r.check(zmq_endpoint_error(c.endpoints.events_out, true).empty(), "endpoints.events_out",
          zmq_endpoint_error(c.endpoints.events_out, true));

  auto& sv = c.service;
  r.get("limits.max_memory", c.limits.max_memory);
  r.check(c.limits.max_memory == 0 || c.limits.max_memory >= (1u << 20), "limits.max_memory",
          "must be 0 (no limit) or at least 1048576 bytes");
  r.get("service.role", sv.role);
  r.check(sv.role == "single" || sv.role == "ingest" || sv.role == "score" || sv.role == "publish", "service.role",
          "must be \"single\", \"ingest\", \"score\" or \"publish\"");
  r.get("service.scoring_threads", sv.scoring_threads);
  r.check(sv.scoring_threads <= 256, "service.scoring_threads", "must be at most 256");
  r.get("service.hwm", sv.hwm);
  r.check(sv.hwm >= 1 && sv.hwm <= 1'000'000, "service.hwm", "must be between 1 and 1000000");
  r.get("service.idle_seconds", sv.idle_seconds);
  r.check(sv.idle_seconds >= 0, "service.idle_seconds", "must not be negative");
  r.get("service.listen", sv.listen);
  r.get("service.publish_to", sv.publish_to);
  r.get("service.shards", sv.shards);
  r.check(sv.listen.empty() || zmq_endpoint_error(sv.listen, true).empty(), "service.listen",
          zmq_endpoint_error(sv.listen, true));
  r.check(sv.publish_to.empty() || zmq_endpoint_error(sv.publish_to, false).empty(), "service.publish_to",
          zmq_endpoint_error(sv.publish_to, false));
  for (const auto& shard : sv.shards) {
    r.check(zmq_endpoint_error(shard, false).empty(), "service.shards", zmq_endpoint_error(shard, false));
  }
  r.get("service.shard_index", sv.shard_index);
  r.get("service.shard_count", sv.shard_count);
  r.get("service.rejects_file", sv.rejects_file);
  r.get("service.rejects_max_bytes", sv.rejects_max_bytes);
  r.check(sv.rejects_max_bytes >= 4096, "service.rejects_max_bytes", "must be at least 4096");
  r.get("service.rejects_max_files", sv.rejects_max_files);
  r.check(sv.shard_count >= 1 && sv.shard_index < sv.shard_count, "service.shard_index",
          "must be below service.shard_count");
  r.get("security.curve_secret_key_file", c.security.curve_secret_key_file);
  r.get("security.curve_allow_file", c.security.curve_allow_file);
  r.get("security.curve_peer_file", c.security.curve_peer_file);

  r.delegate("sinks");
  r.delegate("rules");
  r.delegate("source.kafka");  // transport/KafkaSourceConfig
  r.reject_unknown();
  result.error = r.error();
  if (result.error.empty()) {
    RulesResult rules = read_rules(document);
    result.error = std::move(rules.error);
    c.rules = std::move(rules.rules);
  }
  return result;
}

ConfigResult parse_config(std::string_view text, const std::string& source_name) {
  auto parsed = core::parse_config_document(text, source_name);
  if (!parsed.error.empty()) return ConfigResult{{}, std::move(parsed.error)};
  return read_config(parsed.document);
}

ConfigResult load_config_file(const std::string& path) {
  auto loaded = core::load_config_document(path);
  if (!loaded.error.empty()) return ConfigResult{{}, std::move(loaded.error)};
  return read_config(loaded.document);
}

}  // namespace flowlier::pipeline
