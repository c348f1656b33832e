// vmodem image create | info | stats: a module image as a whole.
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <vmodem/simulator/manufacture.hpp>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "module/fs_config.hpp"
#include "stats_json.hpp"

namespace vmodem::cli {

namespace {

struct ImageArgs {
  std::string image;
  std::string profile;
  std::string seed;
  bool json = false;
  std::string app;               // QuecPython: a host tree for /usr
  bool backup = false;           // ... and for /bak, with checksum.json, backup_restore.json
  bool backup_disabled = false;  // ... whose backup_restore.json says off
};

// QuecPython's packaging (the vendor tool with "backup" ticked): the host
// tree goes into /usr, and with --backup into /bak too. The tree is read
// and checked here, exactly as manufacture will read it, before the image
// exists: a tree that is refused leaves nothing behind.
int apply_app(const ImageArgs& args, sim::Profile& profile) {
  if (args.app.empty()) {
    if (args.backup || args.backup_disabled)
      return report_error(kExitUsage, "--backup needs --app DIR (the files to back up)");
    return kExitOk;
  }
  if (profile.family != sim::Family::quecpython) {
    return report_error(kExitUsage, "--app puts a QuecPython application into /usr: profile " +
                                        profile.name + " is family " +
                                        std::string(sim::to_string(profile.family)) +
                                        " (try --profile bg95-m3-quecpython)");
  }
  std::error_code ec;
  const auto dir = std::filesystem::absolute(args.app, ec);
  if (ec) return report_error(kExitUsage, "--app " + args.app + ": " + ec.message());
  for (auto& fs : profile.file_systems) {
    const bool backup_fs = fs.app_backup;
    if (fs.role != sim::FsRole::ap && !backup_fs) continue;
    if (backup_fs && !(args.backup || args.backup_disabled)) continue;
    fs.factory_dir = dir.string();
    if (backup_fs) fs.restore_enabled = !args.backup_disabled;
    if (auto files = sim::factory_files(profile, fs, 0); !files)
      return report_error(kExitUsage, "--app: " + files.error() + " (nothing was written)");
  }
  return kExitOk;
}

// The factory bad blocks of an image: the blocks whose marker the
// factory wrote.
std::vector<std::uint32_t> factory_bad_blocks(sim::Flash& flash) {
  std::vector<std::uint32_t> bad;
  auto access = flash.lock();  // no NAND operation in here
  for (std::uint32_t b = 0; b < flash.geometry().block_count; ++b) {
    if (access.storage().block_meta(b).flags & nand::kFactoryBad) bad.push_back(b);
  }
  return bad;
}

int create(const ImageArgs& args) {
  auto profile = load_profile_or_report(args.profile.empty() ? sim::kDefaultProfile : args.profile);
  if (!profile) return profile.error();
  if (const int refused = apply_app(args, *profile); refused != kExitOk) return refused;
  sim::Seeds seeds = sim::Seeds::from_entropy();
  if (!args.seed.empty()) {
    auto seed = parse_seed(args.seed);
    if (!seed)
      return report_error(kExitUsage, "--seed: expected a number, got '" + args.seed + "'");
    seeds.run = *seed;
  }
  // The boot's warnings and errors reach the user; its routine lines do not.
  auto log = std::make_shared<spdlog::logger>(
      "manufacture", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  log->set_level(spdlog::level::warn);
  if (auto made = sim::manufacture_image(*profile, args.image, seeds, log); !made)
    return report_error(manufacture_exit_code(made.error().kind), made.error().message);
  auto flash = sim::Flash::open(*profile, args.image, sim::Flash::Mode::open_existing, seeds, true);
  if (!flash) return report_error(kExitCorrupt, flash.error());
  const auto bad = factory_bad_blocks(**flash);
  std::vector<std::string> file_systems;
  for (const auto& fs : profile->file_systems)
    file_systems.push_back(fs.name);
  if (args.json) {
    print_json({{"image", args.image},
                {"profile", profile->name},
                {"seed", std::to_string(seeds.run)},
                {"factory_bad_blocks", bad},
                {"file_systems", file_systems}});
    return kExitOk;
  }
  std::cout << "created " << args.image << " (" << profile->name << ", "
            << profile->geometry.block_count << " blocks, seed " << seeds.run << ")\n"
            << "factory bad blocks:";
  for (auto b : bad)
    std::cout << " " << b;
  std::cout << (bad.empty() ? " none\n" : "\n") << "firmware in slot A; file systems";
  for (const auto& name : file_systems)
    std::cout << " " << name;
  std::cout << " formatted with their factory files";
  bool backed_up = false;
  for (const auto& fs : profile->file_systems)
    backed_up |= fs.has_backup();
  std::cout << (backed_up ? " and backed up\n" : "\n");
  return kExitOk;
}

nlohmann::json partitions_json(sim::Flash& flash) {
  nlohmann::json parts = nlohmann::json::array();
  auto access = flash.lock();  // no NAND operation in here
  const nand::Storage& storage = access.storage();
  for (const auto& entry : flash.profile().partitions) {
    std::vector<std::uint32_t> bad;
    for (std::uint32_t b = entry.spec.first_block; b < entry.spec.end_block(); ++b) {
      if (storage.block_meta(b).flags & (nand::kFactoryBad | nand::kMarkedBad | nand::kFailed))
        bad.push_back(b);
    }
    parts.push_back(
        {{"name", entry.spec.name},
         {"role", sim::to_string(entry.role)},
         {"first_block", entry.spec.first_block},
         {"blocks", entry.spec.block_count},
         {"bytes", std::uint64_t{entry.spec.block_count} * flash.geometry().block_bytes()},
         {"bad_blocks", bad},
         {"description", entry.description}});
  }
  return parts;
}

int info(const ImageArgs& args) {
  auto flash = open_image_or_report(args.image, args.profile, true);
  if (!flash) return flash.error();
  const auto& g = (*flash)->geometry();
  const auto& p = (*flash)->profile();
  const auto counters = (*flash)->lock().storage().counters();
  const std::uint64_t manufacture_seed = (*flash)->manufacture_seed();
  const bool kept = !(*flash)->lock().storage().attachment().empty();
  nlohmann::json out = {{"image", args.image},
                        {"profile", p.name},
                        {"profile_kept_in_image", kept},
                        {"model", p.identity.model},
                        {"nand",
                         {{"part_number", p.nand_part_number},
                          {"page_size", g.page_size},
                          {"spare_size", g.spare_size},
                          {"pages_per_block", g.pages_per_block},
                          {"block_count", g.block_count},
                          {"nop", g.nop},
                          {"capacity_bytes", g.capacity_bytes()},
                          {"ecc_strength_bits", p.chip.ecc.strength_bits}}},
                        {"manufacture_seed", manufacture_seed},
                        {"partitions", partitions_json(**flash)},
                        {"virtual_time_ns", counters.virtual_time_ns},
                        {"power_cuts", counters.power_cuts}};
  if (args.json) {
    print_json(out);
    return kExitOk;
  }
  std::cout << args.image << ": " << p.identity.model << " (profile " << p.name
            << (kept ? ", kept in the image" : "") << ")\n"
            << "NAND " << p.nand_part_number << ": " << g.block_count << " blocks x "
            << g.pages_per_block << " pages x " << g.page_size << "+" << g.spare_size
            << " bytes, ECC " << p.chip.ecc.strength_bits << " bits/" << p.chip.ecc.sector_size
            << " B, NOP " << g.nop << "\n"
            << "manufacture seed " << manufacture_seed << ", " << counters.power_cuts
            << " power cuts, " << counters.virtual_time_ns / 1000000 << " ms of flash time\n\n";
  std::printf("%-16s %-22s %6s %6s %9s  %s\n", "partition", "role", "first", "blocks", "KiB",
              "bad blocks");
  for (const auto& part : out["partitions"]) {
    std::string bad;
    for (const auto& b : part["bad_blocks"])
      bad += (bad.empty() ? "" : ",") + std::to_string(b.get<int>());
    std::printf("%-16s %-22s %6d %6d %9llu  %s\n", part["name"].get<std::string>().c_str(),
                part["role"].get<std::string>().c_str(), part["first_block"].get<int>(),
                part["blocks"].get<int>(),
                static_cast<unsigned long long>(part["bytes"].get<std::uint64_t>() / 1024),
                bad.empty() ? "-" : bad.c_str());
  }
  return kExitOk;
}

int stats(const ImageArgs& args) {
  auto flash = open_image_or_report(args.image, args.profile, true);
  if (!flash) return flash.error();
  const auto table = (*flash)->table();
  const auto stats = nand::collect_stats((*flash)->lock().storage(), &table);
  if (args.json) {
    print_json(sim::stats_json(stats));
    return kExitOk;
  }
  const auto& c = stats.counters;
  std::cout << "operations " << c.operations << ": " << c.reads << " reads, " << c.programs
            << " programs (" << c.partial_programs << " partial), " << c.erases << " erases\n"
            << "ECC: " << c.corrected_reads << " corrected reads (" << c.corrected_bits
            << " bits), " << c.uncorrectable_reads << " uncorrectable\n"
            << "failures: " << c.program_fails << " program, " << c.erase_fails
            << " erase; violations: " << c.order_violations << " order, " << c.nop_violations
            << " NOP, " << c.set_bit_violations << " set-bit\n"
            << "power cuts " << c.power_cuts << " (" << c.torn_operations << " torn operations)\n"
            << "bad blocks: " << stats.factory_bad << " factory, " << stats.grown_bad << " grown; "
            << stats.damaged_pages << " damaged pages, " << stats.unstable_pages << " unstable\n\n";
  std::printf("%-16s %10s %10s %8s %5s %5s %8s %8s\n", "partition", "reads", "programs", "erases",
              "fbad", "gbad", "max-ec", "mean-ec");
  for (const auto& a : stats.areas) {
    std::printf("%-16s %10llu %10llu %8llu %5u %5u %8u %8.1f\n", a.name.c_str(),
                static_cast<unsigned long long>(a.reads),
                static_cast<unsigned long long>(a.programs),
                static_cast<unsigned long long>(a.erases), a.factory_bad, a.grown_bad, a.max_erase,
                a.mean_erase);
  }
  std::cout << "\nwear (erase count -> blocks):";
  for (const auto& w : stats.wear)
    std::cout << "  " << w.erase_count_from << "-" << w.erase_count_to << ": " << w.blocks;
  std::cout << "\n";
  return kExitOk;
}

}  // namespace

void add_image_nand_commands(CLI::App& image, CommandList& commands) {
  auto args = std::make_shared<ImageArgs>();
  auto* create_cmd = image.add_subcommand(
      "create", "Manufacture a new module image: what a module's first power-on leaves");
  create_cmd->add_option("IMAGE", args->image, "Image file to create (must not exist)")->required();
  create_cmd->add_option("--profile,-p", args->profile,
                         "Profile name or JSON file (default bg95-m3)");
  create_cmd->add_option("--seed", args->seed, "Seed for manufacture (random if omitted; printed)");
  create_cmd->add_flag("--json", args->json, "Machine-readable output");
  create_cmd->add_option("--app", args->app,
                         "QuecPython profiles: a host directory of application files for /usr");
  create_cmd->add_flag("--backup", args->backup,
                       "With --app: the files into /bak too, with a generated checksum.json and "
                       "backup_restore.json (restore at boot enabled)");
  create_cmd->add_flag("--backup-disabled", args->backup_disabled,
                       "As --backup, but backup_restore.json disables the restore");
  commands.add(create_cmd, [args] { return create(*args); });

  auto* info_cmd =
      image.add_subcommand("info", "Show an image's chip, profile and partition table");
  info_cmd->add_option("IMAGE", args->image, "Module image")->required()->check(CLI::ExistingFile);
  info_cmd->add_option("--profile,-p", args->profile,
                       "Profile (default: the one recorded in the image)");
  info_cmd->add_flag("--json", args->json, "Machine-readable output");
  commands.add(info_cmd, [args] { return info(*args); });

  auto* stats_cmd =
      image.add_subcommand("stats", "Operation counts, wear, bad blocks and ECC activity");
  stats_cmd->add_option("IMAGE", args->image, "Module image")->required()->check(CLI::ExistingFile);
  stats_cmd->add_option("--profile,-p", args->profile,
                        "Profile (default: the one recorded in the image)");
  stats_cmd->add_flag("--json", args->json, "Machine-readable output");
  commands.add(stats_cmd, [args] { return stats(*args); });
}

void add_image_command(CLI::App& app, CommandList& commands) {
  auto* image = app.add_subcommand("image", "Offline tools on a module image file");
  image->require_subcommand(1);
  add_image_nand_commands(*image, commands);
  add_image_debug_commands(*image, commands);
  add_image_fs_commands(*image, commands);
  add_image_ubi_commands(*image, commands);
}

}  // namespace vmodem::cli
