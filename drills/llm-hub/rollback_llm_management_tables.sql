-- Seed 001's rollback_llm_management_tables.sql, plus what release v2 added on top of it
-- (llm_hub_layouts, feature_flags.description) and the schema history rows of both
-- migrations, so the next deploy sees the schema as it really is.
-- Run with ON_ERROR_STOP and in one transaction: all of it or nothing.

-- Tables in reverse dependency order (v2's layouts first: they came last).
DROP TABLE IF EXISTS llm_hub_layouts CASCADE;
DROP TABLE IF EXISTS llm_usage_analytics CASCADE;
DROP TABLE IF EXISTS llm_routing_rules CASCADE;
DROP TABLE IF EXISTS llm_model_tier_rules CASCADE;
DROP TABLE IF EXISTS llm_models CASCADE;
DROP TABLE IF EXISTS llm_provider_keys CASCADE;
DROP TABLE IF EXISTS llm_providers CASCADE;

-- Indexes (gone with their tables; kept so a half-dropped schema is cleaned too).
DROP INDEX IF EXISTS idx_provider_keys_user_id;
DROP INDEX IF EXISTS idx_models_provider;
DROP INDEX IF EXISTS idx_routing_rules_user_id;
DROP INDEX IF EXISTS idx_usage_analytics_user_id;
DROP INDEX IF EXISTS idx_usage_analytics_timestamp;

-- Functions
DROP FUNCTION IF EXISTS update_updated_at_column CASCADE;

-- Release v2's column, and the history of the two migrations rolled back.
ALTER TABLE feature_flags DROP COLUMN IF EXISTS description;
DELETE FROM _migrations WHERE version IN (2, 3);
