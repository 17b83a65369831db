/*
 * sim_telemetry.h: the `migctl sim load` and `migctl sim health`
 * subcommands (cli/cmd_sim_telemetry.c), dispatched by cli/cmd_sim.c.
 */
#ifndef MIGCTL_CLI_SIM_TELEMETRY_H
#define MIGCTL_CLI_SIM_TELEMETRY_H

int sim_load_cmd(int argc, char **argv, const char *path);
int sim_health_cmd(int argc, char **argv, const char *path);

#endif
