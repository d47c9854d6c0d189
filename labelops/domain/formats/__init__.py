"""Import readers and export writers for Label Studio's file formats, behind registries."""
