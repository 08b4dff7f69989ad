/* engine/api_pipeline.h
 *
 * The handlers of strategy to numbers (CONTRACT 8.4; README "Pipeline and
 * forecast", "Process metrics", "Migrating instances"): GET /v1/pipeline,
 * GET /v1/process-metrics, POST /v1/instances/migrate (api_pipeline.c).
 */
#ifndef ENGINE_API_PIPELINE_H
#define ENGINE_API_PIPELINE_H

#include "api.h"

api_handler_fn api_pipeline_get, api_process_metrics_get, api_instances_migrate;

#endif
