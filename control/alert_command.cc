// SPDX-License-Identifier: Apache-2.0
#include "control/alert_command.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

extern char** environ;

namespace dotpin::ctl {

bool run_alert_command(const std::string& command, const AlertVars& vars,
                       const std::function<void(std::string_view)>& warn, std::string_view who) {
  if (command.empty()) return false;
  auto say = [&](const std::string& what) {
    if (warn) warn(std::string(who) + ": " + what);
  };
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e)
    if (std::string_view(*e).rfind("DOTPIN_", 0) != 0) env_strings.emplace_back(*e);
  for (const auto& [name, value] : vars) env_strings.push_back("DOTPIN_" + name + "=" + value);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = command;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  pid_t pid = -1;
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, envp.data()) != 0) {
    say("cannot run the alert command");
    return false;
  }
  int status = 0;
  for (int i = 0; i < 1000; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        say("the alert command failed (status " + std::to_string(status) + ")");
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  say("the alert command ran for 10 s and was killed");
  return true;
}

}  // namespace dotpin::ctl
