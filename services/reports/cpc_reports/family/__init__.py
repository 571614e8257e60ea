"""The family's form: a parent's, carer's or child's views before the conference, served as plain HTML pages."""
