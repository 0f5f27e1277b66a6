# nbconvert's settings for the site (JUPYTER_CONFIG_DIR=site/jupyter_config while mkdocs runs:
# site.mk, and site/hooks.py for a plain `mkdocs build`). mkdocs-jupyter reads this file
# through NbConvertApp().load_config_file().
#
# The widget renderer and require.js are served by the site itself (vendored from npm, see
# `make site-vendor`), not from unpkg / cdnjs: a page makes no request to another host. Both
# URLs are relative to a notebook's page, notebooks/<name>/index.html, so the site also works
# under a sub-path.
c = get_config()  # noqa: F821
c.HTMLExporter.widget_renderer_url = "../../assets/js/embed-amd.js"  # @jupyter-widgets/html-manager@1 dist/
c.HTMLExporter.require_js_url = "../../assets/js/require.js"  # requirejs@2
