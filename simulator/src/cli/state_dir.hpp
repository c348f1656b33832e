// Where `vmodem run` keeps a module's state, shared by `run` and `ctl` so the
// client finds the socket the daemon made.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace vmodem::cli {

// $XDG_STATE_HOME/vmodem/<profile>, else ~/.local/state/vmodem/<profile>,
// else <tmp>/vmodem/<profile>.
std::filesystem::path default_state_dir(const std::string& profile);

// Makes `state` ready for a daemon before anything is created in it: created
// (mode 0700) if missing; an existing one must be a directory we can write.
// What holds secrets (the NAND image holds the AT+QICSGP password) is kept
// from other local users: the directory is tightened to 0700 and the image,
// the logs and the AT trace to 0600 where they are ours and looser; each
// change is returned as a sentence for the log. Never follows a symlink to
// change a mode. Errors: a sentence naming the path and the reason (the
// caller exits kExitIo).
tl::expected<std::vector<std::string>, std::string> prepare_state_dir(
    const std::filesystem::path& state);

// The control socket's name inside a state directory.
inline constexpr const char* kControlSocketName = "control.sock";

}  // namespace vmodem::cli
