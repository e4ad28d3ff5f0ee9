#pragma once
// The AWS VPC Flow Logs field table (versions 2-8 and newer) and the field-order
// ("LogFormat") type that maps the columns of a text record to FlowRecord slots.
//
// Field names are the ${field} names of the flow log's LogFormat. Names flowlier does
// not know are kept as columns of their own: their values go to FlowRecord::extra under
// that name, so a newer AWS field never breaks parsing.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/FlowRecord.hpp"
#include "pipeline/RejectReason.hpp"

namespace flowlier::pipeline::formats {

enum class AwsField : std::uint8_t {
  unknown,  // a name not in the table: value kept in extra under its own name
  version,
  account_id,
  interface_id,
  srcaddr,
  dstaddr,
  srcport,
  dstport,
  protocol,
  packets,
  bytes,
  start,
  end,
  action,
  log_status,
  vpc_id,
  subnet_id,
  instance_id,
  tcp_flags,
  type,
  pkt_srcaddr,
  pkt_dstaddr,
  region,
  az_id,
  sublocation_type,
  sublocation_id,
  pkt_src_aws_service,
  pkt_dst_aws_service,
  flow_direction,
  traffic_path,
  ecs_cluster_arn,
  ecs_cluster_name,
  ecs_container_instance_arn,
  ecs_container_instance_id,
  ecs_container_id,
  ecs_second_container_id,
  ecs_service_name,
  ecs_task_definition_arn,
  ecs_task_arn,
  ecs_task_id,
  reject_reason,
  resource_id,
  encryption_status,
};

inline constexpr std::size_t kAwsFieldCount = static_cast<std::size_t>(AwsField::encryption_status) + 1;

// The AWS name of a field ("log-status"); "" for AwsField::unknown.
std::string_view aws_field_name(AwsField field);
// The format version that introduced the field (2, 3, 4, 5, 7, 8; 0 for unknown/newer).
int aws_field_since_version(AwsField field);
// Looks a name up in the table; AwsField::unknown when it is not an AWS field name.
AwsField find_aws_field(std::string_view name);

// One column of a record: which field, and its name as written (for unknown fields
// and for reject messages).
struct AwsColumn {
  AwsField field = AwsField::unknown;
  std::string name;
};

// An ordered list of columns: the header line of an S3 file or a configured LogFormat.
class AwsFormat {
 public:
  // The default version 2 format: version account-id ... action log-status (14 fields).
  static AwsFormat default_v2();

  // Parses "${version} ${account-id} ..." or "version account-id ..." (runs of spaces
  // and tabs separate names). Returns an empty string on success, else a message: an
  // empty list, a repeated name, or a malformed ${...}. Unknown names are accepted.
  // `out` is left unchanged on failure.
  static std::string parse(std::string_view text, AwsFormat& out);

  const std::vector<AwsColumn>& columns() const { return columns_; }
  std::size_t size() const { return columns_.size(); }
  // How many columns name a field of the table.
  std::size_t known_count() const;
  // Whether a column names `field`.
  bool has(AwsField field) const;
  // Whether this is exactly the default v2 field order (it has a dedicated fast path).
  bool is_default_v2() const { return default_v2_; }

 private:
  void classify();

  std::vector<AwsColumn> columns_;
  bool default_v2_ = false;
};

// Why a record's values were refused: the 0-based column, the reason, and a short
// predicate for the message ("is not a port", "is before start").
struct AwsFieldError {
  std::size_t column = 0;
  RejectReason reason = RejectReason::bad_value;
  std::string_view what;  // static text
};

// Stores values[i] into `record` as column i of `format` says, for every i (values
// has format.size() non-empty tokens). "-" means absent: the presence bit stays unset,
// the slot goes back to its default and extra fields skip it. Only what is present is
// validated; the one cross-field check is end >= start when both are present. Returns
// the first error, else nullopt. Sets record.format, resets presence bits and extra.
//
// Every column's slot is written, so a record reused line after line needs no
// FlowRecord::reset() (a ~700-byte rebuild) provided it was reset() when the format
// last changed. Bytes up to `readable_end` may be loaded past a token (numbers eight
// bytes at a time, IPv4 sixteen); nullptr allows no over-read. Allocation-free except
// for extra fields. The default v2 order takes a straight-line path, others a switch
// per column.
std::optional<AwsFieldError> apply_aws_fields(const AwsFormat& format, std::span<const std::string_view> values,
                                              const char* readable_end, FlowRecord& record);

}  // namespace flowlier::pipeline::formats
