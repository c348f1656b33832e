// vmodem image ubiformat | ubi-info | ubi-read: UBI on a partition of an
// image, as mtd-utils' ubiformat, ubinfo and reading /dev/ubiX_Y do on a
// Linux module: write an image that ubinize made, see what attach finds,
// read a volume back.
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include <vmodem/nand/ubi/ubi_device.hpp>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "host_file.hpp"
#include "json_text.hpp"

namespace vmodem::cli {

namespace {

struct UbiArgs {
  std::string image;
  std::string profile;
  std::string partition;
  std::string ubi_image;  // ubiformat
  std::string volume;     // ubi-read: name or id
  std::string output;     // ubi-read
  bool json = false;
};

int exit_code_of(const nand::Error& error) {
  switch (error.code) {
    case nand::Errc::invalid_argument:
    case nand::Errc::bad_image:
      return kExitCorrupt;
    case nand::Errc::no_space:
      return kExitNoSpace;
    default:
      return kExitIo;
  }
}

// The image and its partition `args.partition`, or the exit code after
// saying why not.
struct Opened {
  std::unique_ptr<sim::Flash> flash;
  std::unique_ptr<nand::Partition> partition;
};
tl::expected<Opened, int> open_or_report(const UbiArgs& args, bool read_only) {
  auto flash = open_image_or_report(args.image, args.profile, read_only);
  if (!flash) return tl::unexpected(flash.error());
  auto partition = (*flash)->partition(args.partition);
  if (!partition) return tl::unexpected(report_error(kExitNotFound, partition.error().message()));
  return Opened{std::move(*flash), std::move(*partition)};
}

int ubiformat(const UbiArgs& args) {
  // The image file is read and checked against the partition's shape before
  // the module image is opened for writing: a refused file leaves it as it
  // was, to the byte.
  nand::Geometry shape;
  std::optional<nand::FileId> module_image;
  {
    auto peek = open_or_report(args, true);
    if (!peek) return peek.error();
    shape = peek->partition->geometry();
    module_image = peek->flash->lock().storage().file_id();
  }
  auto bytes = sim::read_host_file(args.ubi_image, shape.capacity_bytes(), module_image);
  if (!bytes) return report_error(kExitIo, bytes.error());
  if (auto valid = nand::ubi::check_image(shape, *bytes); !valid)
    return report_error(exit_code_of(valid.error()), valid.error().message());
  auto opened = open_or_report(args, false);
  if (!opened) return opened.error();
  auto report = nand::ubi::flash_image(*opened->partition, *bytes);
  if (!report) return report_error(exit_code_of(report.error()), report.error().message());
  if (auto synced = opened->flash->lock().storage().sync(); !synced)
    return report_error(kExitIo, "cannot write the image: " + synced.error().message());
  if (args.json) {
    print_json({{"partition", args.partition},
                {"image_pebs", report->image_pebs},
                {"formatted_pebs", report->formatted},
                {"skipped_bad", report->skipped_bad},
                {"pages_written", report->pages_written}});
  } else {
    std::printf("%s: %u PEBs of %s written, %u formatted empty, %u bad skipped\n",
                args.partition.c_str(), report->image_pebs, args.ubi_image.c_str(),
                report->formatted, report->skipped_bad);
  }
  return kExitOk;
}

nlohmann::json volume_json(const nand::ubi::Volume& v) {
  std::uint32_t mapped = 0;
  for (const std::uint32_t peb : v.eba)
    mapped += peb != nand::ubi::kUnmapped ? 1 : 0;
  const bool fixed = v.record.vol_type == nand::ubi::VolumeType::static_;
  return {{"id", v.id},
          {"name", sim::json_text(v.record.name)},  // any bytes the image held
          {"type", fixed ? "static" : "dynamic"},
          {"reserved_lebs", v.eba.size()},
          {"mapped_lebs", mapped},
          {"size", v.used_bytes},
          {"autoresize", (v.record.flags & nand::ubi::kAutoresize) != 0},
          {"update_interrupted", v.record.upd_marker}};
}

nlohmann::json info_json(const nand::ubi::UbiDevice& ubi, const std::string& partition) {
  using nand::ubi::PebState;
  nlohmann::json pebs = {{"total", ubi.peb_count()}};
  for (const PebState state : {PebState::used, PebState::free, PebState::erased, PebState::stale,
                               PebState::corrupt, PebState::bad})
    pebs[nand::ubi::to_string(state)] = ubi.count(state);
  std::uint64_t low = ~0ull;
  std::uint64_t high = 0;
  for (std::uint32_t peb = 0; peb < ubi.peb_count(); ++peb) {
    if (const auto ec = ubi.peb(peb).erase_count) {
      low = std::min(low, *ec);
      high = std::max(high, *ec);
    }
  }
  nlohmann::json volumes = nlohmann::json::array();
  for (const auto& v : ubi.volumes())
    volumes.push_back(volume_json(v));
  const auto& layout = ubi.layout();
  return {{"partition", partition},
          {"needs_format", ubi.needs_format()},
          {"layout",
           {{"peb_size", layout.peb_size},
            {"leb_size", layout.leb_size},
            {"vid_hdr_offset", layout.vid_hdr_offset},
            {"data_offset", layout.data_offset},
            {"image_seq", layout.image_seq}}},
          {"pebs", pebs},
          {"erase_counts",
           {{"min", low == ~0ull ? 0 : low}, {"mean", ubi.mean_erase_count()}, {"max", high}}},
          {"volume_table_degraded", ubi.volume_table_degraded()},
          {"volumes", volumes}};
}

void print_info(const nlohmann::json& info) {
  std::printf("UBI on %s: %s\n", info["partition"].get<std::string>().c_str(),
              info["needs_format"].get<bool>() ? "no volume table (needs formatting)" : "attached");
  const auto& layout = info["layout"];
  if (layout["peb_size"].get<unsigned>() == 0) {
    std::printf("  no UBI header in any block: %u blocks hold something else, %u are erased\n",
                info["pebs"]["corrupt"].get<unsigned>(), info["pebs"]["erased"].get<unsigned>());
    return;
  }
  std::printf("  PEB %u bytes, LEB %u bytes, VID header at %u, data at %u, image sequence %u\n",
              layout["peb_size"].get<unsigned>(), layout["leb_size"].get<unsigned>(),
              layout["vid_hdr_offset"].get<unsigned>(), layout["data_offset"].get<unsigned>(),
              layout["image_seq"].get<unsigned>());
  std::printf("  PEBs:");
  for (const auto& [state, n] : info["pebs"].items())
    std::printf(" %s %u", state.c_str(), n.get<unsigned>());
  const auto& ec = info["erase_counts"];
  std::printf("\n  erase counters: min %llu, mean %llu, max %llu\n",
              ec["min"].get<unsigned long long>(), ec["mean"].get<unsigned long long>(),
              ec["max"].get<unsigned long long>());
  if (info["volume_table_degraded"].get<bool>())
    std::printf("  one copy of the volume table is damaged (the other was used)\n");
  for (const auto& v : info["volumes"]) {
    std::printf("  volume %u \"%s\": %s, %zu of %zu LEBs mapped, %llu bytes%s%s\n",
                v["id"].get<unsigned>(), v["name"].get<std::string>().c_str(),
                v["type"].get<std::string>().c_str(), v["mapped_lebs"].get<std::size_t>(),
                v["reserved_lebs"].get<std::size_t>(), v["size"].get<unsigned long long>(),
                v["autoresize"].get<bool>() ? ", autoresize" : "",
                v["update_interrupted"].get<bool>() ? ", UPDATE INTERRUPTED" : "");
  }
}

tl::expected<std::unique_ptr<nand::ubi::UbiDevice>, int> attach_or_report(nand::Device& device,
                                                                          const UbiArgs& args) {
  auto ubi = nand::ubi::UbiDevice::attach(device);
  if (!ubi) {
    return tl::unexpected(
        report_error(exit_code_of(ubi.error()), args.partition + ": " + ubi.error().message()));
  }
  return std::move(*ubi);
}

int ubi_info(const UbiArgs& args) {
  auto opened = open_or_report(args, true);
  if (!opened) return opened.error();
  auto ubi = attach_or_report(*opened->partition, args);
  if (!ubi) return ubi.error();
  const auto info = info_json(**ubi, args.partition);
  if (args.json) {
    print_json(info);
  } else {
    print_info(info);
  }
  // Blocks of something other than UBI (another file system): not UBI, and
  // a script should be able to tell.
  const bool foreign = (*ubi)->needs_format() && (*ubi)->count(nand::ubi::PebState::corrupt) > 0;
  return foreign ? kExitCorrupt : kExitOk;
}

const nand::ubi::Volume* find_volume(const nand::ubi::UbiDevice& ubi, const std::string& which) {
  if (const auto* v = ubi.find(std::string_view(which))) return v;
  if (!which.empty() && which.find_first_not_of("0123456789") == std::string::npos &&
      which.size() < 10)
    return ubi.find(static_cast<std::uint32_t>(std::stoul(which)));
  return nullptr;
}

int ubi_read(const UbiArgs& args) {
  auto opened = open_or_report(args, true);
  if (!opened) return opened.error();
  auto ubi = attach_or_report(*opened->partition, args);
  if (!ubi) return ubi.error();
  const nand::ubi::Volume* v = find_volume(**ubi, args.volume);
  if (!v) return report_error(kExitNotFound, args.partition + " has no UBI volume " + args.volume);
  std::vector<std::uint8_t> data;
  if (v->record.vol_type == nand::ubi::VolumeType::static_) {
    auto read = (*ubi)->read_static_volume(v->id);
    if (!read) return report_error(exit_code_of(read.error()), read.error().message());
    data = std::move(*read);
  } else {
    // A dynamic volume reads as all its LEBs, unmapped ones as 0xFF (as
    // /dev/ubiX_Y does).
    const std::uint32_t leb = (*ubi)->layout().leb_size;
    data.resize(std::size_t{leb} * v->eba.size());
    for (std::uint32_t lnum = 0; lnum < v->eba.size(); ++lnum) {
      auto chunk = std::span(data).subspan(std::size_t{lnum} * leb, leb);
      if (auto read = (*ubi)->read_leb(v->id, lnum, 0, chunk); !read)
        return report_error(exit_code_of(read.error()), read.error().message());
    }
  }
  auto written = sim::write_host_file(args.output, data, opened->flash->lock().storage().file_id());
  if (!written) return report_error(kExitIo, written.error());
  if (args.json) {
    print_json({{"partition", args.partition},
                {"volume", v->id},
                {"output", args.output},
                {"size", data.size()}});
  }
  return kExitOk;
}

CLI::App* add_target(CLI::App& image, UbiArgs& args, const char* name, const char* help) {
  auto* cmd = image.add_subcommand(name, help);
  cmd->add_option("IMAGE", args.image, "Module image")->required()->check(CLI::ExistingFile);
  cmd->add_option("PARTITION", args.partition, "Partition holding UBI")->required();
  cmd->add_option("--profile,-p", args.profile, "Profile (default: the one recorded in the image)");
  cmd->add_flag("--json", args.json, "Machine-readable output");
  return cmd;
}

}  // namespace

void add_image_ubi_commands(CLI::App& image, CommandList& commands) {
  auto args = std::make_shared<UbiArgs>();
  auto* format_cmd =
      add_target(image, *args, "ubiformat",
                 "Write an image made by mtd-utils' ubinize into a partition, keeping each "
                 "block's erase counter (as ubiformat -f does)");
  format_cmd->add_option("UBI_IMAGE", args->ubi_image, "The ubinize output")->required();
  commands.add(format_cmd, [args] { return ubiformat(*args); });

  auto* info_cmd = add_target(image, *args, "ubi-info",
                              "Attach UBI on a partition and show its volumes, PEBs and wear");
  commands.add(info_cmd, [args] { return ubi_info(*args); });

  auto* read_cmd = add_target(image, *args, "ubi-read",
                              "Read a UBI volume into a host file (a static volume's data, or "
                              "every LEB of a dynamic one)");
  read_cmd->add_option("VOLUME", args->volume, "Volume name or id")->required();
  read_cmd->add_option("--output,-o", args->output, "Host file to write")->required();
  commands.add(read_cmd, [args] { return ubi_read(*args); });
}

}  // namespace vmodem::cli
