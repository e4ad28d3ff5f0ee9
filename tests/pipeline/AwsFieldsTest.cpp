#include <catch2/catch.hpp>

#include "pipeline/formats/AwsFields.hpp"

using namespace flowlier::pipeline;
using namespace flowlier::pipeline::formats;

TEST_CASE("AWS field table: names, versions and lookups round-trip", "[aws]") {
  for (std::size_t i = 1; i < kAwsFieldCount; ++i) {
    const auto field = static_cast<AwsField>(i);
    INFO(aws_field_name(field));
    CHECK(find_aws_field(aws_field_name(field)) == field);
  }
  CHECK(kAwsFieldCount == 43);  // unknown + 42 names (v2-v8 and newer)
  CHECK(find_aws_field("log-status") == AwsField::log_status);
  CHECK(find_aws_field("ecs-task-definition-arn") == AwsField::ecs_task_definition_arn);
  CHECK(find_aws_field("encryption-status") == AwsField::encryption_status);
  CHECK(find_aws_field("tgw-id") == AwsField::unknown);
  CHECK(find_aws_field("") == AwsField::unknown);
  CHECK(aws_field_since_version(AwsField::srcaddr) == 2);
  CHECK(aws_field_since_version(AwsField::tcp_flags) == 3);
  CHECK(aws_field_since_version(AwsField::az_id) == 4);
  CHECK(aws_field_since_version(AwsField::flow_direction) == 5);
  CHECK(aws_field_since_version(AwsField::ecs_cluster_arn) == 7);
  CHECK(aws_field_since_version(AwsField::reject_reason) == 8);
}

TEST_CASE("AWS formats parse from ${name} or plain names", "[aws]") {
  AwsFormat format;
  CHECK(AwsFormat::parse("${version} ${vpc-id}\t${my-field}", format).empty());
  REQUIRE(format.size() == 3);
  CHECK(format.columns()[0].field == AwsField::version);
  CHECK(format.columns()[1].field == AwsField::vpc_id);
  CHECK(format.columns()[2].field == AwsField::unknown);
  CHECK(format.columns()[2].name == "my-field");
  CHECK(format.known_count() == 2);
  CHECK(format.has(AwsField::vpc_id));
  CHECK_FALSE(format.has(AwsField::srcaddr));
  CHECK_FALSE(format.is_default_v2());

  CHECK(AwsFormat::parse("  srcaddr   dstaddr \n", format).empty());
  CHECK(format.size() == 2);
  CHECK(AwsFormat::parse("${srcaddr}${dstaddr}", format).empty());
  CHECK(format.size() == 2);

  const AwsFormat v2 = AwsFormat::default_v2();
  CHECK(v2.size() == 14);
  CHECK(v2.is_default_v2());
  CHECK(AwsFormat::parse("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
                         "start end action log-status",
                         format)
            .empty());
  CHECK(format.is_default_v2());
}

TEST_CASE("AWS formats: repeated names, empty lists and bad references are errors", "[aws][errors]") {
  AwsFormat format;
  REQUIRE(AwsFormat::parse("srcaddr", format).empty());
  CHECK(AwsFormat::parse("srcaddr dstaddr srcaddr", format) == "field 'srcaddr' is repeated");
  CHECK(AwsFormat::parse("x x", format) == "field 'x' is repeated");
  CHECK(AwsFormat::parse("   ", format) == "the format names no fields");
  CHECK(AwsFormat::parse("${srcaddr", format).find("malformed") != std::string::npos);
  CHECK(AwsFormat::parse("${}", format).find("malformed") != std::string::npos);
  CHECK(AwsFormat::parse("$srcaddr", format).find("malformed") != std::string::npos);
  // Left unchanged on failure.
  CHECK(format.size() == 1);
  CHECK(format.columns()[0].field == AwsField::srcaddr);
}

TEST_CASE("AWS fields apply to a record; the next apply resets what it does not set", "[aws]") {
  AwsFormat format;
  REQUIRE(AwsFormat::parse("version srcaddr packets region reject-reason encryption-status x-new", format).empty());
  const std::string_view values[] = {"8", "10.0.0.1", "42", "eu-west-1", "BPA", "1", "-"};
  FlowRecord record;
  CHECK_FALSE(apply_aws_fields(format, values, nullptr, record));
  CHECK(record.format == Format::aws_vpc);
  CHECK(record.version == 8);
  CHECK(record.packets == 42);
  CHECK(record.region.view() == "eu-west-1");
  CHECK(record.rule.view() == "BPA");
  CHECK(record.extra == R"("encryption-status":"1")");
  const std::string_view dashes[] = {"-", "-", "-", "-", "-", "-", "-"};
  CHECK_FALSE(apply_aws_fields(format, dashes, nullptr, record));
  CHECK(record.present == 0);
  CHECK(record.version == 0);
  CHECK(record.packets == 0);
  CHECK(record.region.empty());
  CHECK(record.rule.empty());
  CHECK(record.extra.empty());
  CHECK(record.srcaddr == IpAddress{});

  const std::string_view times[] = {"20", "10"};
  AwsFormat start_end;
  REQUIRE(AwsFormat::parse("start end", start_end).empty());
  const auto error = apply_aws_fields(start_end, times, nullptr, record);
  REQUIRE(error);
  CHECK(error->column == 1);
  CHECK(error->reason == RejectReason::bad_time);
}
