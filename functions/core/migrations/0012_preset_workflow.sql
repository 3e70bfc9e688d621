-- QwenEditBot schema, version 12: a preset may name its workflow.
-- `workflow` is the name of a template under the gpu-host's `workflows/` (`[a-z0-9_]`, 1–64
-- characters, checked by the API); NULL runs the deployment's `default_workflow`, as every
-- preset did before. The built-in presets keep NULL.

ALTER TABLE presets ADD COLUMN workflow TEXT;
