// vmodem image dump-page | mark-bad | inject: looking at and hurting single
// blocks and pages of an image, for reproducing what a field failure left.
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/output.hpp"

namespace vmodem::cli {

namespace {

struct PageArgs {
  std::string image;
  std::string profile;
  std::string partition;
  std::uint32_t block = 0;
  std::uint32_t page = 0;
  bool raw = false;
  bool json = false;
  // inject
  std::uint32_t bit_flips = 0;
  int sector = -1;
  bool uncorrectable = false;
  bool unstable = false;
  bool fail_block = false;
};

// Resolves a block given on the command line: physical, or logical within
// --partition (bad blocks skipped, as the partition sees it).
tl::expected<std::uint32_t, int> physical_block(sim::Flash& flash, const PageArgs& args) {
  if (args.partition.empty()) {
    if (args.block >= flash.geometry().block_count) {
      return tl::unexpected(
          report_error(kExitUsage, "block " + std::to_string(args.block) + " is beyond the chip"));
    }
    return args.block;
  }
  auto part = flash.partition(args.partition);
  if (!part) return tl::unexpected(report_error(kExitNotFound, part.error().message()));
  if (args.block >= (*part)->geometry().block_count) {
    return tl::unexpected(report_error(
        kExitUsage, "partition " + args.partition + " has " +
                        std::to_string((*part)->geometry().block_count) + " usable blocks"));
  }
  return (*part)->physical_block(args.block);
}

void hexdump(const std::vector<std::uint8_t>& bytes, std::size_t base) {
  for (std::size_t row = 0; row < bytes.size(); row += 16) {
    std::printf("%06zx ", base + row);
    for (std::size_t i = row; i < row + 16 && i < bytes.size(); ++i)
      std::printf(" %02x", bytes[i]);
    std::printf("\n");
  }
}

std::string hex(const std::vector<std::uint8_t>& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

int dump_page(const PageArgs& args) {
  auto flash = open_image_or_report(args.image, args.profile, true);
  if (!flash) return flash.error();
  auto block = physical_block(**flash, args);
  if (!block) return block.error();
  const auto& g = (*flash)->geometry();
  if (args.page >= g.pages_per_block) return report_error(kExitUsage, "page beyond the block");
  const nand::PageAddr addr{*block, args.page};
  std::vector<std::uint8_t> main(g.page_size), spare(g.spare_size);
  std::string ecc = "raw";
  std::uint32_t corrected = 0;
  auto access = (*flash)->lock();
  if (args.raw) {
    access.storage().read_cells(addr, 0, main);
    access.storage().read_cells(addr, g.page_size, spare);
  } else {
    auto read = access.chip().read(addr, main, spare);
    ecc = read ? (read->corrected() ? "corrected" : "clean")
               : std::string(to_string(read.error().code));
    corrected = read ? read->corrected_bits : 0;
  }
  const auto page_meta = access.storage().page_meta(addr);
  if (args.json) {
    print_json({{"block", *block},
                {"page", args.page},
                {"ecc", ecc},
                {"corrected_bits", corrected},
                {"program_count", page_meta.program_count},
                {"unstable", (page_meta.flags & nand::kUnstable) != 0},
                {"damaged", page_meta.deviation_slot != 0},
                {"main", hex(main)},
                {"spare", hex(spare)}});
    return kExitOk;
  }
  std::cout << "block " << *block << " page " << args.page << ": ECC " << ecc;
  if (corrected) std::cout << " (" << corrected << " bits)";
  std::cout << ", programmed " << int(page_meta.program_count) << "x"
            << ((page_meta.flags & nand::kUnstable) ? ", unstable" : "")
            << (page_meta.deviation_slot ? ", has bit errors" : "") << "\nmain:\n";
  hexdump(main, 0);
  std::cout << "spare:\n";
  hexdump(spare, g.page_size);
  return kExitOk;
}

int mark_bad(const PageArgs& args) {
  auto flash = open_image_or_report(args.image, args.profile, false);
  if (!flash) return flash.error();
  auto block = physical_block(**flash, args);
  if (!block) return block.error();
  if (auto ok = (*flash)->lock().chip().mark_bad(*block); !ok)
    return report_error(kExitFailure, ok.error().message());
  if (args.json) {
    print_json({{"block", *block}, {"marked_bad", true}});
  } else {
    std::cout << "block " << *block << " marked bad\n";
  }
  return kExitOk;
}

int inject(const PageArgs& args) {
  const int chosen = (args.bit_flips > 0) + args.uncorrectable + args.unstable + args.fail_block;
  if (chosen != 1) {
    return report_error(
        kExitUsage,
        "inject: give exactly one of --bit-flips N, --uncorrectable, --unstable, --fail-block");
  }
  auto flash = open_image_or_report(args.image, args.profile, false);
  if (!flash) return flash.error();
  auto block = physical_block(**flash, args);
  if (!block) return block.error();
  const nand::PageAddr addr{*block, args.page};
  if (args.page >= (*flash)->geometry().pages_per_block)
    return report_error(kExitUsage, "page beyond the block");
  std::optional<std::uint32_t> sector;
  if (args.sector >= 0) sector = static_cast<std::uint32_t>(args.sector);
  using D = nand::Damage::Kind;
  const nand::Damage damage{args.bit_flips > 0   ? D::bit_flips
                            : args.uncorrectable ? D::uncorrectable
                            : args.unstable      ? D::unstable
                                                 : D::failed_block,
                            args.bit_flips, sector};
  // The path of ctl inject and of fault rules: the injector's damage().
  const nand::Status done = (*flash)->lock().faults().damage(addr, damage);
  const std::string what = nand::describe(damage);
  if (!done) return report_error(kExitFailure, done.error().message());
  if (args.json) {
    print_json({{"block", *block}, {"page", args.page}, {"injected", what}});
  } else {
    std::cout << "block " << *block << " page " << args.page << ": injected " << what << "\n";
  }
  return kExitOk;
}

void add_location(CLI::App* cmd, PageArgs& args, bool with_page) {
  cmd->add_option("IMAGE", args.image, "Module image")->required()->check(CLI::ExistingFile);
  cmd->add_option("BLOCK", args.block, "Block: physical, or logical within --partition")
      ->required()
      ->check(kNotNegative);
  if (with_page) cmd->add_option("PAGE", args.page, "Page in the block")->check(kNotNegative);
  cmd->add_option("--partition", args.partition,
                  "Count BLOCK within this partition (bad blocks skipped)");
  cmd->add_option("--profile,-p", args.profile, "Profile (default: the one recorded in the image)");
  cmd->add_flag("--json", args.json, "Machine-readable output");
}

struct EraseArgs {
  std::string image;
  std::string profile;
  std::string partition;
  bool json = false;
};

// What `fastboot erase PARTITION` does to a module: every good block of the
// partition erased, whatever it held (the seed 001 test method 3). A block
// whose erase fails is marked bad, as a flasher would.
int fastboot_erase(const EraseArgs& args) {
  auto flash = open_image_or_report(args.image, args.profile, false);
  if (!flash) return flash.error();
  auto part = (*flash)->partition(args.partition);
  if (!part) return report_error(kExitNotFound, part.error().message());
  auto erased = nand::erase_every_block(**part);
  if (!erased) return report_error(kExitIo, erased.error().message());
  const std::uint32_t failed = erased->failed;
  if (auto synced = (*flash)->lock().storage().sync(); !synced)
    return report_error(kExitIo, "cannot write the image: " + synced.error().message());
  if (args.json) {
    print_json({{"partition", args.partition},
                {"erased_blocks", erased->erased},
                {"failed_blocks", failed}});
  } else {
    std::cout << args.partition << ": " << erased->erased << " blocks erased"
              << (failed ? ", " + std::to_string(failed) + " failed and marked bad" : "") << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_image_debug_commands(CLI::App& image, CommandList& commands) {
  auto args = std::make_shared<PageArgs>();
  auto* dump =
      image.add_subcommand("dump-page", "Hex dump of a page (main + spare) with its ECC status");
  add_location(dump, *args, true);
  dump->add_flag("--raw", args->raw, "The cells as they are, without ECC correction");
  commands.add(dump, [args] { return dump_page(*args); });

  auto* bad = image.add_subcommand("mark-bad", "Write the bad-block marker of a block");
  add_location(bad, *args, false);
  commands.add(bad, [args] { return mark_bad(*args); });

  auto* hurt = image.add_subcommand(
      "inject", "Damage a page or block: bit flips, uncorrectable, unstable, failed");
  add_location(hurt, *args, true);
  hurt->add_option("--bit-flips", args->bit_flips,
                   "Flip N bits of the page (persistent until erase)")
      ->check(kNotNegative);
  hurt->add_option("--sector", args->sector, "Keep the flips in this ECC sector (0-based)")
      ->check(kNotNegative);
  hurt->add_flag("--uncorrectable", args->uncorrectable, "One more bit error than ECC can correct");
  hurt->add_flag("--unstable", args->unstable,
                 "Marginal cells: reads vary from one read to the next");
  hurt->add_flag("--fail-block", args->fail_block,
                 "The block reports FAIL on every program and erase");
  commands.add(hurt, [args] { return inject(*args); });

  auto erase_args = std::make_shared<EraseArgs>();
  auto* erase = image.add_subcommand(
      "fastboot-erase",
      "Erase a whole partition, as `fastboot erase PARTITION` does (the module stopped)");
  erase->add_option("IMAGE", erase_args->image, "Module image")
      ->required()
      ->check(CLI::ExistingFile);
  erase->add_option("PARTITION", erase_args->partition, "Partition to erase")->required();
  erase->add_option("--profile,-p", erase_args->profile,
                    "Profile (default: the one recorded in the image)");
  erase->add_flag("--json", erase_args->json, "Machine-readable output");
  commands.add(erase, [erase_args] { return fastboot_erase(*erase_args); });
}

}  // namespace vmodem::cli
