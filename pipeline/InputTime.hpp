#pragma once
// When the records of a delivered log file begin, as its path says. Cloud delivery trees
// name files by time but not in a way that sorts: Azure's
// .../y=YYYY/m=MM/d=DD/h=HH/m=00/macAddress=<mac>/PT1H.json sorts by NSG and MAC first,
// AWS trees by account and region first, GCP's hourly shards
// .../YYYY/MM/DD/HH:00:00_HH:59:59_S<n>.json by hour of day across days. Replay orders
// its inputs by this time, so that a tree replays like one time-sorted file.
#include <cstdint>
#include <optional>
#include <string_view>

namespace flowlier::pipeline {

// How long before its name's time an AWS S3 file's records may begin: the stamp is the
// delivery batch's time, and records reach S3 up to about ten minutes after they end.
inline constexpr std::int64_t kAwsStampLeadSeconds = 900;

// Unix seconds no later than the file's first record, from the layouts above (AWS
// `_YYYYMMDDTHHMMZ_` file stamps minus kAwsStampLeadSeconds, Azure y=/m=/d=/h=/m=
// segments, GCP YYYY/MM/DD/HH:MM:SS_HH:MM:SS_S<n> shards); nullopt when the path says
// nothing.
std::optional<std::int64_t> path_time(std::string_view path);

}  // namespace flowlier::pipeline
