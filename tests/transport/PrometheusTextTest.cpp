#include <catch2/catch.hpp>

#include "transport/PrometheusText.hpp"

using namespace flowlier::transport;

TEST_CASE("Prometheus text: HELP and TYPE precede samples, counters and gauges print integers") {
  PrometheusText t;
  t.counter("x_records_total", "Records.", 42);
  t.gauge("x_entities", "Entities\nnow.", 3.5);
  CHECK(t.text() ==
        "# HELP x_records_total Records.\n# TYPE x_records_total counter\nx_records_total 42\n"
        "# HELP x_entities Entities\\nnow.\n# TYPE x_entities gauge\nx_entities 3.5\n");
}

TEST_CASE("Prometheus text: labelled family escapes label values") {
  PrometheusText t;
  t.counter_family("x_rejected_total", "Rejects.", "reason", {{"bad_port", 2}, {"a\"b\\c", 0}});
  CHECK(t.text() ==
        "# HELP x_rejected_total Rejects.\n# TYPE x_rejected_total counter\n"
        "x_rejected_total{reason=\"bad_port\"} 2\nx_rejected_total{reason=\"a\\\"b\\\\c\"} 0\n");
}

TEST_CASE("Prometheus text: histogram buckets are cumulative, +Inf equals count") {
  LatencyHistogram h;
  h.observe(0.00005);  // first bucket
  h.observe(0.003);    // le=0.005
  h.observe(0.003);
  h.observe(60);       // above every finite bound
  PrometheusText t;
  t.histogram("x_latency_seconds", "Latency.", h);
  const auto& s = t.text();
  CHECK(s.find("x_latency_seconds_bucket{le=\"0.0001\"} 1\n") != std::string::npos);
  CHECK(s.find("x_latency_seconds_bucket{le=\"0.0025\"} 1\n") != std::string::npos);
  CHECK(s.find("x_latency_seconds_bucket{le=\"0.005\"} 3\n") != std::string::npos);
  CHECK(s.find("x_latency_seconds_bucket{le=\"10\"} 3\n") != std::string::npos);
  CHECK(s.find("x_latency_seconds_bucket{le=\"+Inf\"} 4\n") != std::string::npos);
  CHECK(s.find("x_latency_seconds_count 4\n") != std::string::npos);
  CHECK(s.find("x_latency_seconds_sum 60.00605\n") != std::string::npos);
}

TEST_CASE("Prometheus text: histogram family puts its label before le, once per member") {
  LatencyHistogram fast, slow;
  fast.observe(0.0002);
  slow.observe(2.0);
  slow.observe(0.02);
  PrometheusText t;
  t.histogram_family("x_stage_seconds", "Stages.", "stage", {{"intake", &fast}, {"scoring", &slow}});
  const auto& s = t.text();
  CHECK(s.find("# TYPE x_stage_seconds histogram\n") == s.rfind("# TYPE"));  // one header for the family
  CHECK(s.find("x_stage_seconds_bucket{stage=\"intake\",le=\"0.00025\"} 1\n") != std::string::npos);
  CHECK(s.find("x_stage_seconds_bucket{stage=\"scoring\",le=\"0.025\"} 1\n") != std::string::npos);
  CHECK(s.find("x_stage_seconds_bucket{stage=\"scoring\",le=\"+Inf\"} 2\n") != std::string::npos);
  CHECK(s.find("x_stage_seconds_count{stage=\"scoring\"} 2\n") != std::string::npos);
  CHECK(s.find("x_stage_seconds_sum{stage=\"intake\"} 0.0002\n") != std::string::npos);
}
