/*
 * The alert rules of a configuration (issue #12): the built-in rules that [alerts]
 * switches on and tunes, and the [name] sections with type = alert, as the rule engine
 * (obs/alert.h) takes them. Pure; any thread.
 */
#ifndef SW_OBS_ALERT_RULES_H
#define SW_OBS_ALERT_RULES_H

#include <stddef.h>

#include "obs/alert.h"

/*
 * Builds the rules of `cfg`: the built-in rules ([alerts] builtin) unless a rule section
 * of the same name replaces them, then the enabled rule sections. Sinks are resolved to
 * bits by their order in cfg->alert_sinks. Returns the count written (at most `cap`).
 */
size_t alert_rules_from_cfg(const struct cfg *cfg, struct alert_rule *out, size_t cap);

#endif
