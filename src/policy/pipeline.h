/*
 * The pipeline: the ordered list of stages that every request passes after parsing
 * (DESIGN.md). The order of pipeline[] in pipeline.c *is* the security policy: cheap and
 * decisive stages first. Built once from the configuration (main thread); pipeline_run()
 * is called concurrently by every worker.
 */
#ifndef SW_POLICY_PIPELINE_H
#define SW_POLICY_PIPELINE_H

#include "base/diag.h"
#include "policy/stage.h"

struct cfg;
struct pipeline;

/* Initializes every stage; NULL with the problems in `diag` when one refuses. */
struct pipeline *pipeline_new(const struct cfg *cfg, struct sw_diag *diag);

/* Finalizes every stage; NULL is a no-op. */
void pipeline_free(struct pipeline *pipeline);

/*
 * Runs the stages in order (each through stage_run(), so a stage that ran out of arena
 * never passes) until one does not continue; that verdict is returned. A message whose
 * arena already refused an allocation before the stages is refused (stage_fail_closed).
 */
struct verdict pipeline_run(struct pipeline *pipeline, struct stage_ctx *ctx);

/* The number of stages and the name of stage `index` (for metrics and docs). */
size_t pipeline_stage_count(void);
const char *pipeline_stage_name(size_t index);

#endif
