"""Contracts: the request's shape (`request`), every step's input and output (`steps`), the
EventBridge events (`events`), the cost estimate (`costs`), the values the adapters take and
return (`resources`) and S3 URIs (`s3`). Nothing here calls AWS or reads the environment."""
