"""Support tickets (chamados): models, services, selectors, views, forms, admin and tasks."""
