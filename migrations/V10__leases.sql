-- Named leases with a deadline: the sweeper's leadership. The holder renews its
-- lease every round over one connection of its own, whose backend pid is kept
-- here. Another replica takes the lease when it expires (a holder frozen or
-- stuck while still connected stops renewing) or at once when the holder's
-- session is gone (its process died). `term` grows with each new holder, so a
-- holder that wakes late can tell it was replaced. Times are the database's own
-- clock, never a replica's.
CREATE TABLE leases (
    name        text PRIMARY KEY,
    holder      text NOT NULL,
    holder_pid  integer NOT NULL,
    term        bigint NOT NULL,
    expires_at  timestamptz NOT NULL
);
