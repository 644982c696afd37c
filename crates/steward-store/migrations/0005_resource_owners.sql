-- Resource owners: the users and groups who own an app or a group (Okta Identity Governance).
-- One row per (resource, owner). `parent_id` is the resource the owned one belongs to, which
-- lists are filtered by (an app or a group is its own parent). Owners and resources are named
-- by id and type, without foreign keys (either can be a user, a group or an app): deleting one
-- deletes its rows in the same transaction.

CREATE TABLE resource_owners (
    resource_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    parent_type TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    principal_type TEXT NOT NULL,
    created BIGINT NOT NULL,
    PRIMARY KEY (resource_id, principal_id)
);
CREATE INDEX resource_owners_parent ON resource_owners (parent_id, resource_id);
CREATE INDEX resource_owners_principal ON resource_owners (principal_id)
