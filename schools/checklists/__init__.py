"""School safety checklists: the framework as data, assessments, scores, field exchange.

The models live in `schools.models`; this package holds the logic around them:
`framework` (reading and checking a framework file), `scoring` (pure scoring
rules), `services` (writes), `selectors` (reads), `xlsform` and `submissions`
(KoboToolbox / ODK exchange), and the pages and API.
"""
