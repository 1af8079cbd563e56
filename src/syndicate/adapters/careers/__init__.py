"""The team's careers site: index, job pages with JSON-LD, sitemap and Atom feed (pull).

Every file is rendered by a Jinja2 template with autoescaping on.  The packaged templates live
in ``syndicate/templates/careers/``; a file of the same name in the ``templates`` folder
(``adapters/careers`` beside config.yaml by default) replaces the packaged one, so a team can
restyle its site without touching Python.  Two values reach the templates already marked safe:
the job's JSON-LD (serialized with ``<``, ``>`` and ``&`` escaped, so it cannot close its
``<script>``) and the job's description (sanitized to the allowlist of `syndicate.content`).

The site, under the ``dir`` folder of ``output`` (which this target owns whole):

- ``index.html``: every open job grouped by department, newest first, each card with title,
  place, employment type and salary when known; a filter form (location, department, work
  arrangement) is shown by a small script, so without JavaScript every job is simply listed;
- ``jobs/<id>.html``: one page per open job, at the URL of `Settings.job_url`, with its
  JobPosting JSON-LD and an apply button (the apply URL, or a ``mailto:`` link);
- ``sitemap.xml``: the index and every job page (a sitemap index over ``sitemap-<n>.xml`` files
  once there are more URLs than one sitemap may hold);
- ``feed.atom``: an Atom feed with one entry per job (the dates of both: `.sitemap`);
- ``gone.html``: what the feed server answers, with status 410, at the address of a job that
  is no longer open (a page for job seekers, linking to the open jobs; not in the sitemap);
- ``style.css``.

Closed and expired jobs have no page of their own; the daemon answers 410 with ``gone.html``.

The package, one job per module: `.target` (the target and its options: what is rendered, in
which order, from which cached fragments), `.view` (what the templates receive), `.templates`
(the Jinja2 environment over the packaged templates and the project's own), `.sitemap` (the
sitemap files and the Atom feed, and the dates they carry).
"""

from __future__ import annotations

from syndicate.adapters.careers.target import CareersSite, CareersSiteOptions

__all__ = ["CareersSite", "CareersSiteOptions"]
