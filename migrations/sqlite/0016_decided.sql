-- How often the decisions on a pull request (waivers, links, debt calls taken with `/keel`
-- commands) changed, and how many changes a verdict was judged with. A verdict judged before
-- the latest change (`/keel unwaive` ended the waiver it counted) does not count: the head
-- is not judged yet, so a green it showed is withdrawn at once rather than after the next
-- judgement. Verdicts from before this migration count as they did (both start at 0).
ALTER TABLE pull_requests ADD COLUMN decided INTEGER NOT NULL DEFAULT 0;
ALTER TABLE head_verdicts ADD COLUMN decided INTEGER NOT NULL DEFAULT 0;

-- A pull request's verdicts, found by its number: tracking a new head makes those on other
-- heads stale, and recording a decision reads them through the pull request.
CREATE INDEX head_verdicts_by_pull ON head_verdicts (repo, number);
